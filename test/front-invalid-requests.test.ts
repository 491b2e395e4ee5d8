// Our corpus of invalid requests (test/support/invalid-requests.ts), replayed against every
// interface: each refused with its status and `Connection: close`, the connection closed
// while the client still keeps its side open, and the valid ones answered.
import { describe, expect, it } from 'vitest';
import { rawExchange, runnableApps, serveFront } from './support/front.js';
import { corpusLimits, invalidRequests, validRequests } from './support/invalid-requests.js';

describe.each(runnableApps)('a $name app', (app) => {
  it('refuses every request of the corpus with its status and closes the connection, and answers the valid ones', async () => {
    const bicorn = serveFront(app, corpusLimits);
    const url = await bicorn.listening();
    const wrong: string[] = [];
    for (const { rule, request, status } of validRequests) {
      const answer = await rawExchange(url, request);
      if (answer.status !== status) wrong.push(`${rule}: got ${String(answer.status)} (${JSON.stringify(answer.raw.slice(0, 200))}), not ${String(status)}`);
    }
    for (const { rule, request, status } of invalidRequests) {
      const answer = await rawExchange(url, request);
      if (answer.status !== status) wrong.push(`${rule}: got ${String(answer.status)} (${JSON.stringify(answer.raw.slice(0, 200))}), not ${String(status)}`);
      else if (!answer.closed || answer.reset) wrong.push(`${rule}: the connection was ${answer.reset ? 'reset' : 'left open'}`);
      else if (!/\r\nconnection: close\r\n/i.test(`${answer.head}\r\n`)) wrong.push(`${rule}: no Connection: close in ${JSON.stringify(answer.head)}`);
      else if (answer.raw.includes(' 100 Continue')) wrong.push(`${rule}: a 100 Continue came before the refusal`);
    }
    expect(wrong).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});
