// What a gunicorn config's server hooks are told about the server: the JSON the runner and the
// master's hook process read from _BICORN_HOOK_CONTEXT (runner/bicorn_runner/hook_objects.py),
// with the effective settings under gunicorn's names as `cfg` (@bicorn/config's gunicornView).
// Runs in the worker and the master.
export const HOOK_CONTEXT_VARIABLE = '_BICORN_HOOK_CONTEXT';

export interface HookContext {
  /** The config file as messages name it. */
  readonly file: string;
  readonly masterPid: number;
  /** gunicorn's worker.age: bicorn's worker id, which grows with each worker started. */
  readonly age: number;
  readonly numWorkers: number;
  readonly procName: string | null;
  readonly cfg: Readonly<Record<string, unknown>>;
}
