import { describe, expect, it } from 'vitest';
import { get, post } from './support/http.js';
import { hasPython, noPython, servePython } from './support/python.js';


describe.skipIf(!hasPython)(`Python ASGI apps (raw ASGI 3, no framework)${noPython}`, () => {
  it('serves an ASGI app from two workers, each with its own Python process', async () => {
    const bicorn = servePython('hello_asgi:app', ['-w', '2']);
    const url = await bicorn.listening();
    const bodies = new Set<string>();
    for (let i = 0; i < 20 && bodies.size < 2; i++) bodies.add((await get(`${url}/`)).body);
    expect(bodies.size).toBe(2);
    for (const body of bodies) expect(body).toMatch(/^asgi \d+$/);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.msg === 'worker ready').map((l) => l.interface)).toEqual(['asgi', 'asgi']);
  });

  it('echoes a chunked upload, streams a response and gives the scope', async () => {
    const bicorn = servePython('hello_asgi:app');
    const url = await bicorn.listening();
    expect(await post(`${url}/echo`, ['first ', 'second ', 'third'])).toEqual({ status: 200, body: 'first second third' });
    const streamed = await get(`${url}/stream`);
    expect(streamed).toMatchObject({ status: 200, body: 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n' });
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    const scope = JSON.parse((await get(`${url}/scope?a=1&b=%20`)).body) as Record<string, unknown>;
    expect(scope).toMatchObject({
      type: 'http',
      asgi: { version: '3.0', spec_version: '2.5' },
      http_version: '1.1',
      method: 'GET',
      scheme: 'http',
      path: '/scope',
      root_path: '',
      query_string: 'a=1&b=%20',
    });
    expect(scope.headers).toContainEqual(['host', new URL(url).host]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 500 for an exception and logs the traceback', async () => {
    const bicorn = servePython('hello_asgi:app');
    const url = await bicorn.listening();
    expect((await get(`${url}/boom`)).status).toBe(500);
    const line = await bicorn.waitForLog('the error', (l) => l.msg === 'exception in Python app');
    expect(line.traceback).toMatch(/ZeroDivisionError: division by zero/);
    expect(line.traceback).toMatch(/hello_asgi\.py/);
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.find((l) => l.msg.startsWith('python process'))).toMatchObject({ msg: 'python process stopped', code: 0 });
  });
});
