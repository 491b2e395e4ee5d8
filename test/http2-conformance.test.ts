import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { makeCa, makeCert } from './support/certificates.js';
import { skipped } from './support/skip.js';
import { tempDir } from './support/temp-dir.js';

/** h2spec (github.com/summerwind/h2spec): $H2SPEC, on PATH, or where `go install` puts it. */
function findH2spec(): string | undefined {
  const candidates = [process.env.H2SPEC, ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'h2spec')), join(homedir(), 'go', 'bin', 'h2spec')];
  return candidates.find((path): path is string => path !== undefined && path !== '' && existsSync(path));
}

const h2spec = findH2spec();
const noH2spec = skipped(h2spec === undefined, 'h2spec is not installed: go install github.com/summerwind/h2spec/cmd/h2spec@latest, or set H2SPEC');

/**
 * What node:http2 itself fails, measured with h2spec 2.2 against Node 20's own createServer and
 * createSecureServer: nghttp2 ignores frames on streams it has closed, answers a stream id lower
 * than the last with that stream, closes on an unexpected PING ACK, and ends a window overflow
 * with GOAWAY NO_ERROR (or a closed connection) rather than FLOW_CONTROL_ERROR.
 */
const NODE_FAILS = new Set([
  'http2/5.1: closed: Sends a DATA frame after sending RST_STREAM frame',
  'http2/5.1: closed: Sends a HEADERS frame after sending RST_STREAM frame',
  'http2/5.1: closed: Sends a DATA frame',
  'http2/5.1: closed: Sends a HEADERS frame',
  'http2/5.1.1: Sends stream identifier that is numerically smaller than previous',
  'http2/6.7: Sends a PING frame with ACK',
  'http2/6.9.1: Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1',
  'http2/6.9.1: Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1 on a stream',
]);
/** With h2c beside HTTP/1.1 on one bind, bytes that are not the preface are an HTTP/1.1 request (answered 400), not a connection to close. */
const BESIDE_HTTP1 = 'http2/3.5: Sends invalid connection preface';

interface Outcome {
  readonly cases: number;
  readonly failed: string[];
}

/** Runs h2spec against a port (bounded), and reads its JUnit report. */
async function runH2spec(binary: string, port: number, tls: boolean): Promise<Outcome> {
  const report = join(tempDir('bicorn-h2spec-'), 'report.xml');
  // h2spec exits 1 when a case fails: the report says which.
  const output = await new Promise<string>((resolve) => {
    execFile(binary, ['-p', String(port), '-o', '3', '-j', report, ...(tls ? ['-t', '-k'] : [])], { timeout: 150_000 }, (error, stdout, stderr) => {
      resolve(`${error?.message ?? ''}\n${stdout}\n${stderr}`);
    });
  });
  if (!existsSync(report)) throw new Error(`h2spec wrote no report:\n${output}`);
  const xml = readFileSync(report, 'utf8');
  const failed = [...xml.matchAll(/<testcase package="([^"]+)" classname="([^"]+)"[^>]*>\s*<(?:error|failure)/g)].map((m) => `${m[1] ?? ''}: ${(m[2] ?? '').replaceAll('&#39;', "'").replaceAll('&amp;', '&')}`);
  return { cases: [...xml.matchAll(/<testcase /g)].length, failed };
}

describe.skipIf(h2spec === undefined)(`HTTP/2 conformance (h2spec)${noH2spec}`, () => {
  const binary = h2spec ?? '';

  it('fails on an h2c bind beside HTTP/1.1 only where node:http2 itself fails, and on the preface it takes for HTTP/1.1', { timeout: 200_000 }, async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--http-protocols', 'h2,h1', '--http2-cleartext', 'prior-knowledge', fixture('apps/fetch.mjs')]);
    const port = Number(new URL(await bicorn.listening()).port);
    const outcome = await runH2spec(binary, port, false);
    expect(outcome.cases).toBeGreaterThanOrEqual(140);
    expect(outcome.failed.filter((name) => !NODE_FAILS.has(name) && name !== BESIDE_HTTP1)).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('fails on a TLS bind only where node:http2 itself fails', { timeout: 200_000 }, async () => {
    const dir = tempDir('bicorn-h2spec-tls-');
    const server = makeCert(dir, 'server', makeCa(dir, 'ca'), 'server');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--certfile', server.certFile, '--keyfile', server.keyFile, '--http-protocols', 'h2,h1', fixture('apps/fetch.mjs')], { https: true });
    const port = Number(new URL(await bicorn.listening()).port);
    const outcome = await runH2spec(binary, port, true);
    expect(outcome.cases).toBeGreaterThanOrEqual(140);
    expect(outcome.failed.filter((name) => !NODE_FAILS.has(name))).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});
