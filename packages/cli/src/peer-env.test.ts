import { describe, expect, it } from 'vitest';
import { readPeerEnvironment } from './peer-env.js';

describe('GUNICORN_CMD_ARGS', () => {
  it('reads its flags as the command line, each value naming the variable and the flag', () => {
    const peers = readPeerEnvironment({ GUNICORN_CMD_ARGS: '-w 3 --bind=0.0.0.0:5000 --access-logformat "%(h)s %(r)s" --worker-tmp-dir /dev/shm' });
    expect(peers.values.workers).toEqual({ value: '3', source: { kind: 'env', name: 'GUNICORN_CMD_ARGS', flag: '--workers' } });
    expect(peers.values.bind).toEqual({ value: ['0.0.0.0:5000'], source: { kind: 'env', name: 'GUNICORN_CMD_ARGS', flag: '--bind' } });
    expect(peers.values.access_log_format?.value).toBe('%(h)s %(r)s');
    expect(peers.notes).toEqual([{ level: 'info', text: expect.stringMatching(/^GUNICORN_CMD_ARGS: --worker-tmp-dir has no effect: /) as unknown }]);
    expect(peers.problems).toEqual([]);
  });

  it('gives its -c, and says an app argument in it is not read, as in gunicorn', () => {
    const peers = readPeerEnvironment({ GUNICORN_CMD_ARGS: '-c conf/bicorn.json main:app' });
    expect(peers.configFile).toBe('conf/bicorn.json');
    expect(peers.values.app).toBeUndefined();
    expect(peers.notes.map((n) => n.text)).toEqual(['GUNICORN_CMD_ARGS: the app argument main:app is not read from it (as in gunicorn); name the app on the command line']);
  });

  it('names the variable in every problem', () => {
    expect(readPeerEnvironment({ GUNICORN_CMD_ARGS: '--name "web' }).problems).toEqual(['GUNICORN_CMD_ARGS: no closing double quote; quote it as a shell would']);
    expect(readPeerEnvironment({ GUNICORN_CMD_ARGS: '--daemon' }).problems).toEqual([expect.stringMatching(/^GUNICORN_CMD_ARGS: --daemon is not supported yet: issue 18 brings daemon mode/)]);
    expect(readPeerEnvironment({ GUNICORN_CMD_ARGS: '--frobnicate' }).problems).toEqual(["GUNICORN_CMD_ARGS: unknown option '--frobnicate'"]);
  });
});

describe('UVICORN_* variables', () => {
  it('are read as click reads them, each value naming its variable', () => {
    const peers = readPeerEnvironment({
      UVICORN_HOST: '0.0.0.0',
      UVICORN_PORT: '9000',
      UVICORN_WORKERS: '4',
      UVICORN_RELOAD: 'true',
      UVICORN_RELOAD_DIRS: 'src:lib',
      UVICORN_RELOAD_INCLUDES: '*.html *.txt',
      UVICORN_ACCESS_LOG: 'false',
      UVICORN_APP: 'main:app',
      UVICORN_LOG_LEVEL: '',
    });
    expect(peers.values.bind).toEqual({ value: ['0.0.0.0:9000'], source: { kind: 'env', name: 'UVICORN_HOST/UVICORN_PORT' } });
    expect(peers.values.workers).toEqual({ value: '4', source: { kind: 'env', name: 'UVICORN_WORKERS' } });
    expect(peers.values.reload).toEqual({ value: true, source: { kind: 'env', name: 'UVICORN_RELOAD' } });
    expect(peers.values.reload_dirs?.value).toEqual(['src', 'lib']);
    expect(peers.values.reload_include?.value).toEqual(['*.html', '*.txt']);
    expect(peers.values.access_log).toEqual({ value: null, source: { kind: 'env', name: 'UVICORN_ACCESS_LOG' } });
    expect(peers.values.app).toEqual({ value: 'main:app', source: { kind: 'env', name: 'UVICORN_APP' } });
    // click takes an empty variable for an unset one.
    expect(peers.values.log_level).toBeUndefined();
    expect(peers.problems).toEqual([]);
  });

  it('sets the setting of a flag bicorn has: UVICORN_PROXY_HEADERS', () => {
    expect(readPeerEnvironment({ UVICORN_PROXY_HEADERS: '0' }).values.proxy_headers).toMatchObject({ value: false, source: { kind: 'env', name: 'UVICORN_PROXY_HEADERS' } });
  });

  it('names the variable of a flag with no effect, or one that is refused', () => {
    const peers = readPeerEnvironment({ UVICORN_HTTP: 'h11', UVICORN_WS: 'none', UVICORN_RELOAD: 'maybe' });
    expect(peers.notes.map((n) => n.text)).toEqual([expect.stringMatching(/^UVICORN_HTTP: --http h11 has no effect: /)]);
    expect(peers.problems).toEqual([
      'UVICORN_RELOAD: expected a boolean (true or false, 1 or 0, yes or no, on or off), got "maybe"',
      expect.stringMatching(/^UVICORN_WS: --ws none is not supported: bicorn always offers WebSockets/),
    ]);
  });
});

describe('PORT', () => {
  it("binds 0.0.0.0:$PORT, gunicorn's default, below an address the other variables give", () => {
    expect(readPeerEnvironment({ PORT: '5000' }).values.bind).toEqual({ value: ['0.0.0.0:5000'], source: { kind: 'env', name: 'PORT' } });
    expect(readPeerEnvironment({ PORT: '5000', GUNICORN_CMD_ARGS: '-b unix:/run/app.sock' }).values.bind?.value).toEqual(['unix:/run/app.sock']);
    expect(readPeerEnvironment({ PORT: '' }).values.bind).toBeUndefined();
  });
});
