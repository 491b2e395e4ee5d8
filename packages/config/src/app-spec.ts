// Telling a JavaScript app (`path/to/app.mjs[:export]`) from a Python one (`module:callable`).

export type AppKind = 'js' | 'python';

const jsFile = /\.(?:mjs|cjs|js)(?::[\w$]+)?$/;

export function appKind(app: string): AppKind {
  return jsFile.test(app) || /^\.{0,2}\//.test(app) ? 'js' : 'python';
}
