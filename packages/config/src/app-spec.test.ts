import { describe, expect, it } from 'vitest';
import { appKind } from './app-spec.js';

describe('appKind', () => {
  it.each(['app.mjs', './server.js', 'lib/app.cjs:handler', '/srv/app.mjs:default', './dist/server'])('takes %s for JavaScript', (app) => {
    expect(appKind(app)).toBe('js');
  });

  it.each(['mysite.wsgi:application', 'main:app', 'app', 'pkg.factory:create_app()'])('takes %s for Python', (app) => {
    expect(appKind(app)).toBe('python');
  });
});
