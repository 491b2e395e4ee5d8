// Telling a JavaScript app (`path/to/app.mjs[:export]`) from a Python one (`module:callable`),
// and refusing a config whose app and interface do not go together.
import { BicornError } from '@bicorn/protocol';
import type { Config } from './settings.js';

export type AppKind = 'js' | 'python';

const jsFile = /\.(?:mjs|cjs|js)(?::[\w$]+)?$/;

export function appKind(app: string): AppKind {
  return jsFile.test(app) || /^\.{0,2}\//.test(app) ? 'js' : 'python';
}

export type ServableApp =
  | { readonly kind: 'js'; readonly app: string; readonly interface: 'auto' | 'asgi' | 'fetch' | 'node' }
  | { readonly kind: 'python'; readonly app: string; readonly interface: 'auto' | 'asgi' | 'wsgi' };

/** Returns the app to serve and how, or throws the error a person should see. */
export function servableApp(config: Config): ServableApp {
  const { app, interface: appInterface } = config;
  if (app === null) {
    throw new BicornError('USAGE', { message: 'no app given: name one, as in `bicorn app.mjs` or `bicorn mysite.wsgi:application`, or set app in the config file' });
  }
  if (appKind(app) === 'js') {
    if (appInterface === 'wsgi') throw mismatch(app, 'wsgi', 'a Python module:callable');
    if (config.factory) throw new BicornError('USAGE', { message: `--factory is for Python app factories, and ${app} is a JavaScript module, which exports the app itself` });
    return { kind: 'js', app, interface: appInterface };
  }
  if (appInterface === 'fetch' || appInterface === 'node') throw mismatch(app, appInterface, 'a JavaScript file');
  return { kind: 'python', app, interface: appInterface };
}

function mismatch(app: string, appInterface: string, needs: string): BicornError {
  return new BicornError('USAGE', { message: `--interface ${appInterface} needs ${needs}, and ${app} is not one` });
}
