import { describe, expect, it } from 'vitest';
import { apacheTime, compileAccessFormat, jsonAccessLine, prettyAccessLine, type AccessEntry } from './access-log.js';

const entry: AccessEntry = {
  client: '203.0.113.7',
  clientPort: 50000,
  method: 'GET',
  target: '/app/x%20y?y=1',
  httpVersion: '1.1',
  status: 200,
  bytes: 120,
  durationMs: 1234.5678,
  requestHeaders: ['Host', 'example.com', 'User-Agent', 'curl/8', 'Referer', 'https://a.example/', 'Authorization', `Basic ${Buffer.from('ada:secret').toString('base64')}`, 'X-Request-Id', 'abc'],
  responseHead: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Served-By: w1\r\n\r\n',
  scheme: 'https',
  server: ['example.com', 443],
  rootPath: '/app',
};

const at = Date.UTC(2026, 0, 1, 8, 5, 3, 250);

describe('access lines', () => {
  it('has the time, remote address, request line, status, bytes and duration', () => {
    expect(prettyAccessLine(entry, at)).toBe('08:05:03.250 203.0.113.7:50000 "GET /app/x%20y?y=1 HTTP/1.1" 200 120 1234.6ms\n');
    expect(prettyAccessLine({ ...entry, clientPort: 0 }, at)).toMatch(/^08:05:03\.250 203\.0\.113\.7 "GET/);
  });

  it('marks a response from a static directory', () => {
    const served = { ...entry, target: '/static/a.css', clientPort: 0, static: true };
    expect(prettyAccessLine(served, at)).toBe('08:05:03.250 203.0.113.7 "GET /static/a.css HTTP/1.1" 200 120 1234.6ms static\n');
    expect(JSON.parse(jsonAccessLine(served, 1, 'bicorn', at))).toMatchObject({ path: '/static/a.css', static: true });
    expect(JSON.parse(jsonAccessLine({ ...served, static: false }, 1, 'bicorn', at))).not.toHaveProperty('static');
  });

  it('as JSON, has the fields of the server log of the same style', () => {
    expect(JSON.parse(jsonAccessLine(entry, 3, 'bicorn', at))).toEqual({
      time: '2026-01-01T08:05:03.250Z',
      level: 'info',
      role: 'worker',
      worker: 3,
      msg: 'access',
      remote: '203.0.113.7:50000',
      method: 'GET',
      path: '/app/x%20y?y=1',
      http: '1.1',
      status: 200,
      bytes: 120,
      ms: 1234.57,
    });
  });

  it("keeps Datadog's status for the level and puts the response's in http.status_code", () => {
    const line = JSON.parse(jsonAccessLine(entry, 2, 'datadog', at)) as Record<string, unknown>;
    expect(line).toMatchObject({ timestamp: '2026-01-01T08:05:03.250Z', status: 'info', message: 'access', 'http.status_code': 200 });
  });

  it("formats gunicorn's default access format", () => {
    const line = compileAccessFormat('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"')(entry);
    expect(line).toMatch(/^203\.0\.113\.7 - ada \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/app\/x%20y\?y=1 HTTP\/1\.1" 200 \d+ "https:\/\/a\.example\/" "curl\/8"\n$/);
  });

  it('counts the body as the bytes after the response head', () => {
    const head = entry.responseHead ?? '';
    expect(compileAccessFormat('%(b)s %(B)s')({ ...entry, bytes: head.length + 5 })).toBe('5 5\n');
  });

  it('times the request in seconds, microseconds, milliseconds and decimal seconds', () => {
    expect(compileAccessFormat('%(T)s %(D)s %(M)s %(L)s')(entry)).toBe('1 1234568 1235 1.234568\n');
  });

  it('reads request headers, response headers and CGI variables by name, in any case', () => {
    const format = compileAccessFormat('%({x-request-id}i)s %({X-Served-By}o)s %({REMOTE_ADDR}e)s %({wsgi.url_scheme}e)s %({SCRIPT_NAME}e)s %({PATH_INFO}e)s %({SERVER_PORT}e)s %({HTTP_HOST}e)s');
    expect(format(entry)).toBe('abc w1 203.0.113.7 https /app /x y 443 example.com\n');
  });

  it('marks a file served by --static with %({bicorn.static}e)s, and an app response with -', () => {
    const format = compileAccessFormat('%(s)s %({bicorn.static}e)s');
    expect(format({ ...entry, static: true })).toBe('200 static\n');
    expect(format(entry)).toBe('200 -\n');
  });

  it('shows - for an unknown atom or a missing header, and keeps %% and plain text', () => {
    expect(compileAccessFormat('%(z)s %({x-missing}i)s %({x-missing}o)s %({NOPE}e)s 100%% %(m)s %(U)s %(q)s %(H)s')(entry)).toBe('- - - - 100% GET /x y y=1 HTTP/1.1\n');
    expect(compileAccessFormat('%(u)s')({ ...entry, requestHeaders: [] })).toBe('-\n');
  });

  it('writes the time as Apache does, in local time with its offset', () => {
    expect(apacheTime(new Date(2000, 9, 10, 13, 55, 36))).toMatch(/^10\/Oct\/2000:13:55:36 [+-]\d{4}$/);
  });
});
