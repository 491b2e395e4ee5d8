import { BicornError } from '@bicorn/protocol';
import { describe, expect, it } from 'vitest';
import { loadJsApp, type JsInterfaceOption } from '../src/index.js';
import { recordingLog } from '@bicorn/test-support';
import { fixtures } from './fixtures.js';

const log = { ...recordingLog().log, info: () => {} };

function load(app: string, wanted: JsInterfaceOption = 'auto') {
  return loadJsApp({ app, interface: wanted, cwd: fixtures, rootPath: '', lifespan: 'auto', log });
}

async function loadError(app: string, wanted: JsInterfaceOption = 'auto'): Promise<BicornError> {
  const error: unknown = await load(app, wanted).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof BicornError)) throw new Error(`expected a BicornError loading ${app}, got ${String(error)}`);
  return error;
}

describe('loadJsApp', () => {
  it('detects each interface from the fixture apps', async () => {
    expect((await load('asgi-echo.mjs')).interface).toBe('asgi');
    expect((await load('fetch-object.mjs')).interface).toBe('fetch');
    expect((await load('fetch-function.mjs:handler')).interface).toBe('fetch');
    expect((await load('node-listener.mjs')).interface).toBe('node');
  });

  it("takes a .cjs module's module.exports as its default export", async () => {
    expect((await load('express-style.cjs')).interface).toBe('node');
    expect((await load('commonjs-named.cjs:handler')).interface).toBe('fetch');
  });

  it('resolves an absolute path regardless of cwd', async () => {
    const host = await loadJsApp({ app: `${fixtures}node-listener.mjs`, interface: 'auto', cwd: '/', rootPath: '', lifespan: 'auto', log });
    expect(host.interface).toBe('node');
  });

  it('reports a missing file with APP_NOT_FOUND and its absolute path', async () => {
    const error = await loadError('no-such-app.mjs');
    expect(error.code).toBe('APP_NOT_FOUND');
    expect(error.details).toEqual({ app: 'no-such-app.mjs', path: `${fixtures}no-such-app.mjs` });
  });

  it("reports an import that throws with APP_IMPORT_FAILED and the app's own error", async () => {
    const error = await loadError('throws-on-import.mjs');
    expect(error.code).toBe('APP_IMPORT_FAILED');
    expect(error.message).toContain('fixture exploded while importing');
    expect(error.message).toContain('throws-on-import.mjs:2');
  });

  it('reports a missing export with APP_EXPORT_INVALID, listing the exports there are', async () => {
    const error = await loadError('no-default.mjs');
    expect(error.code).toBe('APP_EXPORT_INVALID');
    expect(error.details).toEqual({ app: 'no-default.mjs', exportName: 'default', found: 'missing', available: ['alpha', 'beta'] });
    expect(error.message).toContain('the module exports alpha, beta; name one as no-default.mjs:<export>');

    const named = await loadError('commonjs-named.cjs:nope');
    expect(named.details).toMatchObject({
      exportName: 'nope',
      found: 'missing',
      available: expect.arrayContaining(['handler', 'version']) as unknown,
    });
  });

  it('reports an export of the wrong type with APP_EXPORT_INVALID naming what it is', async () => {
    const error = await loadError('number-default.mjs');
    expect(error.code).toBe('APP_EXPORT_INVALID');
    expect(error.details).toMatchObject({ found: 'a number (42)' });
    expect((await loadError('no-default.mjs:alpha')).details).toMatchObject({ found: 'a number (1)' });
  });

  it('reports a function or object of no known shape with APP_INTERFACE_UNKNOWN', async () => {
    const error = await loadError('zero-params.mjs');
    expect(error.code).toBe('APP_INTERFACE_UNKNOWN');
    expect(error.details).toEqual({ app: 'zero-params.mjs', found: 'a function with 0 parameters' });
    expect(error.message).toContain('pass --interface asgi, fetch or node');
    expect((await loadError('plain-object.mjs')).details).toEqual({ app: 'plain-object.mjs', found: 'an object with properties name' });
  });

  it('skips detection for an explicit interface but still checks that the export can run it', async () => {
    expect((await load('zero-params.mjs', 'asgi')).interface).toBe('asgi');
    expect((await load('node-listener.mjs', 'fetch')).interface).toBe('fetch');
    const notFetch = await loadError('plain-object.mjs', 'fetch');
    expect(notFetch.code).toBe('APP_EXPORT_INVALID');
    expect(notFetch.details).toMatchObject({
      found: 'an object with properties name, which --interface fetch cannot run (it needs a function or an object with a fetch method)',
    });
    const notAsgi = await loadError('plain-object.mjs', 'asgi');
    expect(notAsgi.details).toMatchObject({ found: expect.stringContaining('--interface asgi cannot run (it needs a function)') as string });
  });
});
