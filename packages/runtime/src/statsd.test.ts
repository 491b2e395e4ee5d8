import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { StatsdClient, statsdPrefix } from './statsd.js';

describe('the StatsD client', () => {
  it("gives the prefix one trailing dot, as gunicorn's does", () => {
    expect(statsdPrefix('app')).toBe('app.');
    expect(statsdPrefix('app...')).toBe('app.');
    expect(statsdPrefix('')).toBe('');
    expect(statsdPrefix(null)).toBe('');
  });

  it('sends the metrics of one turn in one datagram, and starts another before 1432 bytes', async () => {
    const server = createSocket('udp4');
    const datagrams: string[] = [];
    server.on('message', (message) => datagrams.push(message.toString()));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    const errors: string[] = [];
    const client = new StatsdClient({ address: { kind: 'udp', host: '127.0.0.1', port: server.address().port }, prefix: 'p', tags: 'a:b', onError: (reason) => errors.push(reason) });
    try {
      client.increment('gunicorn.requests');
      client.gauge('gunicorn.workers', 2);
      client.timing('gunicorn.request.duration', 1.5);
      client.logLine('info');
      client.logLine('error');
      for (let i = 0; i < 40; i++) client.increment(`gunicorn.request.status.${String(200 + i)}`);
      await client.close();
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`datagrams: ${JSON.stringify(datagrams)}`)), 5_000);
        const check = setInterval(() => {
          if (datagrams.join('\n').split('\n').length < 44) return;
          clearTimeout(deadline);
          clearInterval(check);
          resolve();
        }, 10);
      });
    } finally {
      server.close();
    }
    expect(datagrams.length).toBe(2);
    for (const datagram of datagrams) expect(Buffer.byteLength(datagram)).toBeLessThanOrEqual(1432);
    expect(datagrams[0]?.split('\n').slice(0, 4)).toEqual(['p.gunicorn.requests:1|c|@1.0|#a:b', 'p.gunicorn.workers:2|g|#a:b', 'p.gunicorn.request.duration:1.5|ms|#a:b', 'p.gunicorn.log.error:1|c|@1.0|#a:b']);
    expect(errors).toEqual([]);
  });
});
