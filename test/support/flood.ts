// An open-loop load for the fault suite: requests of two kinds, each on a new connection, sent
// at fixed rates whatever the server does (as clients do), each given up after a deadline, so a
// run always ends. Counts every answer by status, and every error by code.
import { request } from 'node:http';

export interface Tally {
  sent: number;
  /** Answers by status, and failures (ECONNRESET, timeout, ...) by code. */
  readonly statuses: Record<string, number>;
}

export interface FloodOptions {
  /** http://host:port, or http://localhost with socketPath. */
  readonly url: string;
  readonly socketPath?: string;
  readonly seconds: number;
  /** Per kind: the path and how many a second. */
  readonly kinds: Readonly<Record<string, { readonly path: string; readonly perSecond: number }>>;
  /** A request not answered by then counts as `timeout`. */
  readonly deadlineMs?: number;
}

export async function flood(options: FloodOptions): Promise<Record<string, Tally>> {
  const tallies: Record<string, Tally> = {};
  const pending: Promise<void>[] = [];
  const kinds = Object.entries(options.kinds).map(([kind, { path, perSecond }]) => {
    const tally: Tally = { sent: 0, statuses: {} };
    tallies[kind] = tally;
    return { url: `${options.url}${path}`, perSecond, tally };
  });
  const started = performance.now();
  // Whatever the timer's lateness on a busy machine, each kind has sent its due count.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsedS = Math.min((performance.now() - started) / 1000, options.seconds);
      for (const { url, perSecond, tally } of kinds) {
        for (; tally.sent < Math.floor(elapsedS * perSecond); tally.sent++) {
          pending.push(
            once(url, options.deadlineMs ?? 30_000, options.socketPath).then((outcome) => {
              tally.statuses[outcome] = (tally.statuses[outcome] ?? 0) + 1;
            }),
          );
        }
      }
      if (elapsedS >= options.seconds) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  await Promise.all(pending);
  return tallies;
}

/** One GET on a new connection: its status, or what went wrong. */
function once(url: string, deadlineMs: number, socketPath?: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: deadlineMs, ...(socketPath === undefined ? {} : { socketPath }) }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(String(res.statusCode ?? 0));
      });
      res.on('error', (error: NodeJS.ErrnoException) => {
        resolve(error.code ?? 'error');
      });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? 'error');
    });
    req.end();
  });
}
