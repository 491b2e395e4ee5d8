// `bicorn check --load-app` and gunicorn's `--check-config`: load the app once, as a worker
// would, without serving it; the error of an app that fails to load exits 4. Runs in the CLI.
import { servableApp, type Config, type Env } from '@bicorn/config';
import { checkJsApp } from '@bicorn/js';
import { appEnvironment, checkPythonApp, findInterpreter } from '@bicorn/python/setup';
import { resolve } from 'node:path';

/** Lines for a person: which interface the app speaks, and what the loading said. */
export async function checkApp(config: Config, env: Env, cwd: string): Promise<string> {
  const servable = servableApp(config);
  const dir = config.chdir === null ? cwd : resolve(cwd, config.chdir);
  if (servable.kind === 'js') {
    const kind = await checkJsApp(servable.app, servable.interface, dir);
    return `app ${servable.app} loads: a JavaScript ${kind} app\n`;
  }
  const interpreter = findInterpreter(config.python, env);
  const result = checkPythonApp({
    interpreter,
    app: servable.app,
    interface: servable.interface,
    factory: config.factory,
    cwd: dir,
    env: appEnvironment(env, { env: config.env, envFile: config.env_file, pythonpath: config.pythonpath, cwd: dir }),
  });
  const said = result.warnings.map((line) => `  ${line}\n`).join('');
  return `app ${servable.app} loads: a ${result.interface.toUpperCase()} app (Python ${interpreter.version}, ${interpreter.path})\n${said}`;
}
