// A small HTTP client for end-to-end tests, on node:http so each test picks its connection
// behaviour: a fresh connection per request, or a shared keep-alive agent.
import { Agent, request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function get(url: string, agent: Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
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

export { Agent };
