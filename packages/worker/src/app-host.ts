// Choosing and loading the app host for a worker's config. Runs in a worker.
import { appKind, type Config } from '@bicorn/config';
import { loadJsApp, type JsAppHost } from '@bicorn/js';
import { BicornError } from '@bicorn/protocol';
import type { Logger } from '@bicorn/runtime';

export async function loadAppHost(config: Config, log: Logger): Promise<JsAppHost> {
  const app = config.app;
  if (app === null) throw new BicornError('USAGE', { message: 'no app given: name one, as in bicorn app.mjs' });
  if (appKind(app) === 'python' || config.interface === 'wsgi') {
    throw new BicornError('NOT_IMPLEMENTED', { what: `the Python app ${app}`, comesWith: 'Python WSGI and ASGI support' });
  }
  return loadJsApp({ app, interface: config.interface, cwd: process.cwd(), rootPath: config.root_path, log });
}
