// A bounded load generator for end-to-end tests: concurrent loops of GET requests on loopback,
// half on keep-alive connections and half on a fresh connection each, until stopped or a
// request cap. It records every status and error; nothing is retried.
import { Agent, request } from 'node:http';

export interface LoadResult {
  readonly requests: number;
  /** Status codes other than 2xx, with how many of each. */
  readonly failedStatuses: Readonly<Record<string, number>>;
  /** Connection errors (ECONNRESET, socket hang up, ...), with how many of each. */
  readonly errors: Readonly<Record<string, number>>;
  /** Distinct response bodies, such as the pids that answered. */
  readonly bodies: ReadonlySet<string>;
}

export interface Load {
  /** Stops the loops and resolves once every request in flight has ended. */
  stop(): Promise<LoadResult>;
  /** Requests answered so far. */
  readonly answered: () => number;
}

export function startLoad(url: string, options: { concurrency?: number; maxRequests?: number } = {}): Load {
  const concurrency = options.concurrency ?? 8;
  const maxRequests = options.maxRequests ?? 200_000;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: concurrency });
  const failedStatuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const bodies = new Set<string>();
  let requests = 0;
  let answered = 0;
  let stopped = false;

  const once = (agent: Agent | false): Promise<void> =>
    new Promise((resolve) => {
      const req = request(url, { agent, headers: agent === false ? { connection: 'close' } : {} }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) failedStatuses[status] = (failedStatuses[status] ?? 0) + 1;
          else if (bodies.size < 1000) bodies.add(body);
          answered++;
          resolve();
        });
        res.on('error', (error: NodeJS.ErrnoException) => {
          errors[error.code ?? error.message] = (errors[error.code ?? error.message] ?? 0) + 1;
          resolve();
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        errors[error.code ?? error.message] = (errors[error.code ?? error.message] ?? 0) + 1;
        resolve();
      });
      req.end();
    });

  const loop = async (agent: Agent | false): Promise<void> => {
    while (!stopped && requests < maxRequests) {
      requests++;
      await once(agent);
    }
  };
  const loops = Array.from({ length: concurrency }, (_, i) => loop(i % 2 === 0 ? keepAlive : false));
  return {
    answered: () => answered,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      keepAlive.destroy();
      return { requests, failedStatuses, errors, bodies };
    },
  };
}
