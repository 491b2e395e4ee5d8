import { createHash } from 'node:crypto';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hasPython, noPython, pythonFixtures, servePython } from './support/python.js';
import { BicornProcess, type LogLine } from './support/bicorn-process.js';
import { Agent, get, post } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { bytesRead } from './support/proc.js';
import { tempDir } from './support/temp-dir.js';


const isSlowStart = (line: LogLine): boolean => line.stream === 'stdout' && line.msg.startsWith('slow request started');

/**
 * Sends raw bytes on one connection and collects everything until the server closes it (the
 * last request says Connection: close, or is HTTP/1.0). The client never half-closes: node's
 * HTTP server drops requests from clients that do.
 */
function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => {
      resolve(text);
    });
    socket.on('error', reject);
  });
}

describe.skipIf(!hasPython)(`WSGI apps (PEP 3333, checked by wsgiref.validate)${noPython}`, () => {
  it('serves a WSGI app from two workers, each with its own Python process', async () => {
    const bicorn = servePython('hello_wsgi:application', ['-w', '2']);
    const url = await bicorn.listening();
    const bodies = new Set<string>();
    for (let i = 0; i < 20 && bodies.size < 2; i++) bodies.add((await get(`${url}/`)).body);
    expect(bodies.size).toBe(2);
    expect(bicorn.lines.filter((l) => l.msg === 'worker ready').map((l) => l.interface)).toEqual(['wsgi', 'wsgi']);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers each feature correctly under the validator', async () => {
    const bicorn = servePython('validated_wsgi:application', ['--threads', '4', '--root-path', '/app']);
    const url = await bicorn.listening();
    const text = 'line one\nline two\nthird line, longer than seven\n';
    for (const how of ['read', 'read-1', 'read-n', 'readline', 'readline-n', 'readlines', 'iter']) {
      expect(await post(`${url}/app/echo?how=${how}`, text), how).toEqual({ status: 200, body: text });
      expect(await post(`${url}/app/echo?how=${how}`, ['line one\nli', 'ne two\n', 'third']), `${how}, chunked`).toEqual({ status: 200, body: 'line one\nline two\nthird' });
    }
    expect(await get(`${url}/app/stream`)).toMatchObject({ status: 200, body: 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n' });
    expect(await get(`${url}/app/write`)).toMatchObject({ status: 200, body: 'written, then returned' });
    const file = await get(`${url}/app/file`);
    expect(file.status).toBe(200);
    expect(file.body).toBe('x'.repeat(100000));
    expect(await get(`${url}/app/exc-info`)).toMatchObject({ status: 503, body: 'replaced' });

    const environ = JSON.parse((await get(`${url}/app/environ?a=1&b=%20`)).body) as Record<string, unknown>;
    expect(environ).toMatchObject({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '/app',
      PATH_INFO: '/environ',
      QUERY_STRING: 'a=1&b=%20',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      'wsgi.url_scheme': 'http',
      'wsgi.multithread': true,
      'wsgi.multiprocess': false,
      'wsgi.run_once': false,
      'wsgi.input_terminated': true,
      'wsgi.version': [1, 0],
    });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('joins repeated headers and drops names with underscores', async () => {
    const bicorn = servePython('validated_wsgi:application');
    const url = await bicorn.listening();
    const answer = await raw(url, 'GET /environ HTTP/1.1\r\nHost: x\r\nX-Tag: a\r\nX-Tag: b\r\nX_Tag: spoofed\r\nConnection: close\r\n\r\n');
    const environ = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '')) as Record<string, unknown>;
    expect(environ.HTTP_X_TAG).toBe('a,b');
    expect(environ.HTTP_HOST).toBe('x');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('handles HEAD, keep-alive, pipelining and HTTP/1.0', async () => {
    const bicorn = servePython('validated_wsgi:application');
    const url = await bicorn.listening();
    const head = await raw(url, 'HEAD /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\ncontent-length: 100000\r\n/i);
    expect(head.endsWith('\r\n\r\n')).toBe(true);

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(`${url}/`, agent);
    const second = await get(`${url}/`, agent);
    agent.destroy();
    expect([first.status, second.status]).toEqual([200, 200]);

    const pipelined = await raw(url, 'GET /write HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(pipelined.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(pipelined.indexOf('written, then returned')).toBeLessThan(pipelined.indexOf('chunk 4'));

    const old = await raw(url, 'GET /stream HTTP/1.0\r\nHost: x\r\n\r\n');
    expect(old).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(old).not.toMatch(/transfer-encoding/i);
    expect(old.endsWith('chunk 4\n')).toBe(true);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 500 for an exception and logs the traceback', async () => {
    const bicorn = servePython('validated_wsgi:application');
    const url = await bicorn.listening();
    expect((await get(`${url}/boom`)).status).toBe(500);
    const line = await bicorn.waitForLog('the error', (l) => l.msg === 'exception in Python app');
    expect(line.traceback).toMatch(/ZeroDivisionError: division by zero/);
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("puts the app's stdout, stderr and wsgi.errors in the log, tagged", async () => {
    const bicorn = servePython('validated_wsgi:application');
    const url = await bicorn.listening();
    expect((await get(`${url}/print`)).status).toBe(200);
    for (const [stream, text] of [['stdout', 'to stdout'], ['stderr', 'to stderr'], ['wsgi.errors', 'to wsgi.errors']]) {
      await bicorn.waitForLog(`the ${String(stream)} line`, (l) => l.stream === stream && l.msg === text);
    }
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('lets a slow WSGI request finish on SIGTERM', async () => {
    const bicorn = servePython('validated_wsgi:application');
    const url = await bicorn.listening();
    const slow = get(`${url}/slow?s=1`);
    await bicorn.waitForLog('the slow request to start', isSlowStart);
    bicorn.signal('SIGTERM');
    expect(await slow).toMatchObject({ status: 200, body: 'slow done' });
    expect((await bicorn.exited).code).toBe(0);
  });

  it('exits 4 with the traceback when the app fails to import', async () => {
    const bicorn = servePython('broken_import:application');
    const { code } = await bicorn.exited;
    expect(code).toBe(4);
    expect(bicorn.stderr).toMatch(/^bicorn: error: app broken_import:application failed to load:\n/);
    expect(bicorn.stderr).toMatch(/RuntimeError: DATABASE_URL is not set\n$/);
  });

  it('starts another Python process in its worker when one is killed, answering 502 for what was in flight', async () => {
    const bicorn = servePython('validated_wsgi:application', ['-w', '2']);
    const url = await bicorn.listening();
    const slow = get(`${url}/slow?s=30`);
    await bicorn.waitForLog('the slow request to start', isSlowStart);
    const started = bicorn.lines.find(isSlowStart);
    const pythonPid = Number(/pid=(\d+)/.exec(started?.msg ?? '')?.[1]);
    process.kill(pythonPid, 'SIGKILL');
    expect((await slow).status).toBe(502);
    await bicorn.waitForLog('the death to be logged', (l) => l.msg.startsWith('the Python process died'));
    await bicorn.waitForLog('the next Python process', (l) => l.msg === 'a new Python process is ready; the requests that waited for it start');
    const after = await Promise.all(Array.from({ length: 6 }, () => get(`${url}/`)));
    expect(after.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe.skipIf(!hasPython)(`the Python app process environment${noPython}`, () => {
  it('gets --env and --env-file values, --chdir and --pythonpath, and never logs the values', async () => {
    const dir = tempDir('bicorn-env-');
    writeFileSync(join(dir, 'app.env'), '# secrets\nexport FROM_FILE="file value"\nOVERRIDDEN=from-file\nPLAIN=plain # comment\n');
    const bicorn = new BicornProcess([
      '-b', '127.0.0.1:0', '--chdir', pythonFixtures, '--pythonpath', dir,
      '-e', 'SECRET_TOKEN=s3cr3t-value', '-e', 'OVERRIDDEN=from-flag', '--env-file', join(dir, 'app.env'),
      'env_wsgi:application',
    ]);
    const url = await bicorn.listening();
    const shown = JSON.parse((await get(`${url}/?SECRET_TOKEN,FROM_FILE,OVERRIDDEN,PLAIN`)).body) as { env: Record<string, string>; cwd: string; sys_path: string[] };
    expect(shown.env).toEqual({ SECRET_TOKEN: 's3cr3t-value', FROM_FILE: 'file value', OVERRIDDEN: 'from-flag', PLAIN: 'plain' });
    expect(shown.cwd).toBe(pythonFixtures.replace(/\/$/, ''));
    expect(shown.sys_path[0]).toBe(shown.cwd);
    expect(shown.sys_path).toContain(dir);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.stdout).not.toContain('s3cr3t-value');
    expect(bicorn.stdout).not.toContain('file value');
  });

  it('refuses an env file that does not exist, naming it', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', pythonFixtures, '--env-file', '/no/such.env', 'env_wsgi:application']);
    expect((await bicorn.exited).code).toBe(2);
    expect(bicorn.stderr).toBe('bicorn: error: cannot read env file /no/such.env: no such file; fix it or drop --env-file\n');
  });
});

/** Like raw(), but a connection the server cuts or resets is an answer, not an error. */
function rawUntilCut(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      resolve(text);
    });
  });
}

describe.skipIf(!hasPython)(`misbehaving apps and clients${noPython}`, () => {
  it('fails only the response whose header node refuses, and keeps the Python process', async () => {
    const bicorn = servePython('validated_wsgi:edge_cases');
    const url = await bicorn.listening();
    expect((await get(`${url}/control-char`)).status).toBe(500);
    const line = await bicorn.waitForLog('the error', (l) => l.msg === 'exception in Python app');
    expect(line.traceback).toMatch(/'X-Reflected': a control character/);
    expect((await get(`${url}/`)).status).toBe(200);
    expect(bicorn.lines.some((l) => l.msg.startsWith('the Python process died'))).toBe(false);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('drops what an iterator sends past its Content-Length, never letting it into the next response', async () => {
    const bicorn = servePython('validated_wsgi:edge_cases');
    const url = await bicorn.listening();
    const text = await rawUntilCut(url, 'GET /too-long HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    // Its first item is the whole body its Content-Length declared, and the client has it; the
    // second item is dropped and logged (as gunicorn drops it), and the next request is served.
    expect(text).not.toContain('SPLIT');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n(.|\r\n)*?\r\n\r\nhelloHTTP\/1\.1 200 OK\r\n(.|\r\n)*hello from \d+/);
    await bicorn.waitForLog('the error', (l) => l.msg === 'the Python app sent a response node cannot send');
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 500 for a whole body shorter than its Content-Length, and serves the next request', async () => {
    const bicorn = servePython('validated_wsgi:edge_cases');
    const url = await bicorn.listening();
    const text = await rawUntilCut(url, 'GET /too-short HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(text).toMatch(/HTTP\/1\.1 200 OK\r\n(.|\r\n)*hello from \d+/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('cuts a streamed response that runs past its Content-Length instead of corrupting the next one', async () => {
    const bicorn = servePython('validated_wsgi:edge_cases');
    const url = await bicorn.listening();
    const text = await rawUntilCut(url, 'GET /too-long-parts HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    // Cut once the second part breaks the length; never a second response in the stream.
    expect((text.match(/HTTP\/1\.1 200 OK/g) ?? []).length).toBeLessThanOrEqual(1);
    expect(text).not.toContain('SPLIT');
    expect(text).not.toContain('hello from');
    await bicorn.waitForLog('the error', (l) => l.msg === 'the Python app sent a response node cannot send');
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 500 for a list body longer than its Content-Length, sent whole, and serves the next request', async () => {
    const bicorn = servePython('validated_wsgi:edge_cases');
    const url = await bicorn.listening();
    const text = await rawUntilCut(url, 'GET /too-long-list HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(text).not.toContain('SPLIT');
    expect(text).toMatch(/HTTP\/1\.1 200 OK\r\n(.|\r\n)*hello from \d+/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('tells the app a chunked upload’s length, as WSGI apps read CONTENT_LENGTH', async () => {
    const bicorn = servePython('validated_wsgi:edge_cases');
    const url = await bicorn.listening();
    expect(await post(`${url}/content-length`, ['four', 'five!'])).toEqual({ status: 200, body: '9 -' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('lets the Python process receive a large upload from the socket itself, read one past upload_memory from the spool file, and others in frames', async () => {
    // Every byte differs from its neighbours, so that a piece out of place changes the digest.
    const large = Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => String.fromCharCode(97 + ((i * 7919) % 26)) + (i % 4099 === 0 ? '\n' : '')).join('');
    const small = 'first line\nsecond line\n'.repeat(100);
    const chunked = (text: string): string[] => [text.slice(0, 7), text.slice(7)];
    const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
    const byDefault = servePython('validated_wsgi:edge_cases');
    const noMemory = servePython('validated_wsgi:edge_cases', ['--upload-memory', '0']);
    const wideWindow = servePython('validated_wsgi:edge_cases', ['--stream-window', String(4 * 1024 * 1024)]);
    const [defaultUrl, noMemoryUrl, wideUrl] = await Promise.all([byDefault.listening(), noMemory.listening(), wideWindow.listening()]);
    // 1 MiB or more with a Content-Length, within upload_memory: the Python process receives it
    // from the client's socket, and the worker never reads it.
    const workerPid = byDefault.workerPid();
    const readBefore = bytesRead(workerPid);
    expect(await post(`${defaultUrl}/body-source`, large)).toEqual({ status: 200, body: `${sha(large)} frames` });
    expect(bytesRead(workerPid) - readBefore).toBeLessThan(512 * 1024);
    // Past the stream window (1 MiB by default) without a Content-Length: from the file.
    expect(await post(`${defaultUrl}/body-source`, chunked(large))).toEqual({ status: 200, body: `${sha(large)} file` });
    expect(await post(`${defaultUrl}/body-source`, small)).toEqual({ status: 200, body: `${sha(small)} frames` });
    // Past upload_memory, with a Content-Length or chunked: from the file.
    expect(await post(`${noMemoryUrl}/body-source`, large)).toEqual({ status: 200, body: `${sha(large)} file` });
    expect(await post(`${noMemoryUrl}/body-source`, chunked(small))).toEqual({ status: 200, body: `${sha(small)} file` });
    // Within a window that holds it: in frames.
    expect(await post(`${wideUrl}/body-source`, chunked(large))).toEqual({ status: 200, body: `${sha(large)} frames` });
    for (const bicorn of [byDefault, noMemory, wideWindow]) expect((await bicorn.stop()).code).toBe(0);
  });

  it('ends the stream of a body the app never read, so the Python process stops cleanly', async () => {
    const bicorn = servePython('validated_wsgi:edge_cases');
    const url = await bicorn.listening();
    expect(await post(`${url}/ignore-body`, 'x'.repeat(3 * 1024 * 1024))).toEqual({ status: 200, body: 'ignored' });
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.find((l) => l.msg.startsWith('python process'))).toMatchObject({ msg: 'python process stopped', code: 0 });
  });

  it('closes the spooled body of an upload the client abandons', async () => {
    const bicorn = servePython('validated_wsgi:edge_cases');
    const url = await bicorn.listening();
    const workerPid = bicorn.workerPid();
    const spooled = (): string[] =>
      readdirSync(`/proc/${String(workerPid)}/fd`)
        .map((fd) => { try { return readlinkSync(`/proc/${String(workerPid)}/fd/${fd}`); } catch { return ''; } })
        .filter((target) => target.includes('bicorn-request-'));
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.write('POST /ignore-body HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n');
    socket.write(Buffer.alloc(5 * 1024 * 1024));
    await pollUntil('the body to be spooled', () => (spooled().length > 0 ? true : undefined));
    socket.destroy();
    await pollUntil('the spool file to be closed', () => (spooled().length === 0 ? true : undefined));
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('drains a slow request when the whole process group gets SIGTERM, as under systemd', async () => {
    const bicorn = servePython('validated_wsgi:application');
    const url = await bicorn.listening();
    const slow = get(`${url}/slow?s=1`);
    await bicorn.waitForLog('the slow request to start', isSlowStart);
    process.kill(-bicorn.pid, 'SIGTERM');
    expect(await slow).toMatchObject({ status: 200, body: 'slow done' });
    expect((await bicorn.exited).code).toBe(0);
  });
});
