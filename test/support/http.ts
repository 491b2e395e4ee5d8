// A small HTTP client for end-to-end tests, on node:http so each test picks its connection
// behaviour: a fresh connection per request, or a shared keep-alive agent.
import { Agent, request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function get(url: string, agent: Agent | false = false, socketPath?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, socketPath === undefined ? { agent } : { agent, socketPath }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * POSTs on a fresh connection: one string with its Content-Length, or several chunks written
 * one at a time without one (a chunked upload). The body is read as latin-1.
 */
export function post(url: string, body: string | readonly string[], headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const chunked = typeof body !== 'string';
    const req = request(url, { method: 'POST', agent: false, headers: chunked ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text });
      });
    });
    req.on('error', reject);
    for (const chunk of chunked ? body : [body]) req.write(chunk);
    req.end();
  });
}

/** Requests on fresh connections until `count` distinct bodies are seen, or `limit` requests. */
export async function distinctAnswers(url: string, count: number, limit = 100): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < limit && seen.size < count; i++) {
    const answer = await get(url);
    if (answer.status !== 200) throw new Error(`status ${String(answer.status)}: ${answer.body}`);
    seen.add(answer.body);
  }
  return seen;
}

/** GET over a unix socket. */
export function getUnix(socketPath: string, path = '/'): Promise<Answer> {
  return get(`http://localhost${path}`, false, socketPath);
}

export { Agent };
