// Where the control socket is: --control-socket, else beside the pid file, else in
// $XDG_RUNTIME_DIR. The master and `bicorn status` find it by the same rule. Pure.
import type { Config } from '@bicorn/config';
import { basename, dirname, extname, join } from 'node:path';

export type ControlPath =
  /** `explicit`: named by --control-socket, so a failure to create it is an error. */
  | { readonly kind: 'path'; readonly path: string; readonly explicit: boolean }
  | { readonly kind: 'none'; readonly reason: string };

export type ControlPathConfig = Pick<Config, 'control_socket' | 'no_control_socket' | 'pid'>;

export function controlSocketPath(config: ControlPathConfig, env: Readonly<Record<string, string | undefined>>): ControlPath {
  if (config.no_control_socket) return { kind: 'none', reason: 'no_control_socket is set' };
  if (config.control_socket !== null) return { kind: 'path', path: config.control_socket, explicit: true };
  if (config.pid !== null) {
    // app.pid gives app.ctl, in the same folder.
    const name = basename(config.pid, extname(config.pid));
    return { kind: 'path', path: join(dirname(config.pid), `${name === '' ? 'bicorn' : name}.ctl`), explicit: false };
  }
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (runtimeDir !== undefined && runtimeDir !== '') return { kind: 'path', path: join(runtimeDir, 'bicorn.ctl'), explicit: false };
  return { kind: 'none', reason: 'neither control_socket, nor pid, nor $XDG_RUNTIME_DIR is set' };
}
