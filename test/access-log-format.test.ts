// The access log in gunicorn's atoms or as JSON, for Python and JavaScript apps alike: the
// client is the one a trusted proxy forwarded, and refusals are logged with their status.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BicornProcess } from './support/bicorn-process.js';
import { frontApp, rawExchange, requestOf, runnableApps, serveFront, transports } from './support/front.js';
import { pollUntil } from './support/poll.js';
import { tempDir } from './support/temp-dir.js';

const FORMAT = '%(h)s %(l)s %(u)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-trace}i)s %({content-type}o)s %({wsgi.url_scheme}e)s %(D)s';

/** The access lines (bicorn's own log lines are JSON; these are not). */
const accessLines = (bicorn: BicornProcess): string[] => bicorn.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('{'));

describe.each(runnableApps.filter((app) => app.name === 'wsgi' || app.name === 'js-asgi'))('a $name app', (app) => {
  it.each(transports)("writes gunicorn's atoms, with the forwarded client, over %s", async (transport) => {
    const bicorn = serveFront(app, ['--access-logfile', '-', '--access-logformat', FORMAT], transport);
    const url = await bicorn.listening();
    const request = requestOf('GET /page?x=1 HTTP/1.1', 'Host: a', 'X-Forwarded-For: 203.0.113.7', 'X-Forwarded-Proto: https', 'Referer: https://r.example/', 'User-Agent: tester/1', 'X-Trace: t-42', `Authorization: Basic ${Buffer.from('ada:pw').toString('base64')}`, 'Connection: close');
    expect((await rawExchange(url, request)).status).toBe(200);
    await bicorn.waitForLog('the access line', (l) => l.msg.startsWith('203.0.113.7'));
    expect(accessLines(bicorn)).toEqual([expect.stringMatching(/^203\.0\.113\.7 - ada "GET \/page\?x=1 HTTP\/1\.1" 200 \d+ "https:\/\/r\.example\/" "tester\/1" t-42 application\/json https \d+$/)]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('the access log', () => {
  it('writes JSON lines when asked, whatever the log format', async () => {
    const file = join(tempDir('bicorn-access-'), 'access.log');
    const bicorn = serveFront(frontApp('js-asgi'), ['--log-format', 'pretty', '--access-logfile', file, '--access-logformat', 'json']);
    const listening = await bicorn.waitForLog('the listening line', (l) => l.msg.includes(' listening addresses='));
    const url = `http://${/addresses=\["([^"]+)"/.exec(listening.msg)?.[1] ?? ''}`;
    await rawExchange(url, requestOf('GET /j HTTP/1.1', 'Host: a', 'X-Forwarded-For: 203.0.113.7', 'Connection: close'));
    const line = await pollUntil('the JSON access line', () => (existsSync(file) && readFileSync(file, 'utf8').includes('\n') ? readFileSync(file, 'utf8') : undefined));
    expect(JSON.parse(line)).toMatchObject({ msg: 'access', remote: '203.0.113.7', method: 'GET', path: '/j', status: 200 });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('logs the requests the front refuses, with their status', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), ['--access-logfile', '-', '--access-logformat', '%(h)s "%(r)s" %(s)s', '--limit-request-fields', '2']);
    const url = await bicorn.listening();
    await rawExchange(url, requestOf('GET /many HTTP/1.1', 'Host: a', 'A: 1', 'B: 2'));
    await rawExchange(url, requestOf('GET /bad HTTP/1.1', 'Host : a'));
    await bicorn.waitForLog('two access lines', () => accessLines(bicorn).length === 2);
    expect(accessLines(bicorn)).toEqual(['127.0.0.1 "GET /many HTTP/1.1" 431', '127.0.0.1 "- - HTTP/-" 400']);
    expect((await bicorn.stop()).code).toBe(0);
  });
});
