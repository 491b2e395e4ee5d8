// Telling a JavaScript app (`path/to/app.mjs[:export]`) from a Python one (`module:callable`),
// and refusing a config that names no app this version can serve.
import { BicornError } from '@bicorn/protocol';
import type { Config } from './settings.js';

export type AppKind = 'js' | 'python';

const jsFile = /\.(?:mjs|cjs|js)(?::[\w$]+)?$/;

export function appKind(app: string): AppKind {
  return jsFile.test(app) || /^\.{0,2}\//.test(app) ? 'js' : 'python';
}

export interface ServableApp {
  readonly app: string;
  readonly interface: Exclude<Config['interface'], 'wsgi'>;
}

/** Returns the JavaScript app to serve and how, or throws the error a person should see. */
export function servableApp(config: Config): ServableApp {
  const { app } = config;
  if (app === null) {
    throw new BicornError('USAGE', { message: 'no app given: name one, as in `bicorn app.mjs`, or set app in the config file' });
  }
  if (appKind(app) === 'python' || config.interface === 'wsgi') {
    throw new BicornError('NOT_IMPLEMENTED', { what: `serving the Python app ${app}`, comesWith: 'Python WSGI and ASGI support' });
  }
  return { app, interface: config.interface };
}
