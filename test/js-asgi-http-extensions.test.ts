import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';

const APP = fixture('apps/asgi-full.mjs');

interface Full {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly trailers: Record<string, string | undefined>;
  readonly informational: { status: number; headers: Record<string, string | string[] | undefined> }[];
  readonly body: string;
}

/** A GET on a fresh connection that also records trailers and 1xx responses. */
function fetchFull(url: string, headers: Record<string, string> = {}): Promise<Full> {
  return new Promise((resolve, reject) => {
    const informational: Full['informational'] = [];
    const req = request(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, informational, body });
      });
    });
    req.on('information', (info) => informational.push({ status: info.statusCode, headers: info.headers }));
    req.on('error', reject);
    req.end();
  });
}

async function serve(): Promise<{ bicorn: BicornProcess; url: string }> {
  const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP]);
  return { bicorn, url: await bicorn.listening() };
}

describe('HTTP extensions of a JavaScript ASGI app', () => {
  it('advertises trailers only to a request with TE: trailers, and pathsend and early hints always, under spec 2.5', async () => {
    const { bicorn, url } = await serve();
    const plain = JSON.parse((await get(`${url}/scope`)).body) as { extensions: object; spec: string };
    expect(plain.spec).toBe('2.5');
    expect(Object.keys(plain.extensions).sort()).toEqual(['http.response.early_hint', 'http.response.pathsend']);
    const withTe = JSON.parse((await fetchFull(`${url}/scope`, { te: 'trailers' })).body) as { extensions: object };
    expect(Object.keys(withTe.extensions).sort()).toEqual(['http.response.early_hint', 'http.response.pathsend', 'http.response.trailers']);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('sends trailers after a chunked body when the request asked for them', async () => {
    const { bicorn, url } = await serve();
    const answer = await fetchFull(`${url}/trailers`, { te: 'trailers' });
    expect(answer.status).toBe(200);
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.body).toBe('with trailers');
    expect(answer.trailers['x-checksum']).toBe('abc123');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 500 to an app that announces trailers the request did not ask for, naming the field', async () => {
    const { bicorn, url } = await serve();
    expect((await get(`${url}/trailers`)).status).toBe(500);
    const line = await bicorn.waitForLog('the app exception', (l) => l.msg === 'exception in ASGI app');
    expect(JSON.stringify(line)).toContain('http.response.start: trailers is true');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('streams the file of a pathsend with its Content-Length', async () => {
    const { bicorn, url } = await serve();
    const answer = await fetchFull(`${url}/file`);
    const expected = readFileSync(APP, 'utf8');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/javascript');
    expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(expected)));
    expect(answer.body).toBe(expected);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 500 to a pathsend whose file does not have the Content-Length the app declared', async () => {
    const { bicorn, url } = await serve();
    expect((await fetchFull(`${url}/file-wrong-length`)).status).toBe(500);
    const line = await bicorn.waitForLog('the app exception', (l) => l.msg === 'exception in ASGI app');
    expect(JSON.stringify(line)).toContain('not the 3 of the response');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('sends an early hint as a 103 with its Link headers before the response', async () => {
    const { bicorn, url } = await serve();
    const answer = await fetchFull(`${url}/hints`);
    expect(answer.informational).toEqual([{ status: 103, headers: expect.objectContaining({ link: '</style.css>; rel=preload; as=style' }) as object }]);
    expect(answer.body).toBe('hinted');
    expect((await bicorn.stop()).code).toBe(0);
  });
});
