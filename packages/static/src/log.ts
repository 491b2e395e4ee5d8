// The logger shape the static file server writes to: a pino-compatible subset. Runs in the worker.

export interface StaticLog {
  error(data: object, msg: string): void;
  warn(data: object, msg: string): void;
}
