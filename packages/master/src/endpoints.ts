// The master's own small HTTP servers: the health endpoints and the metrics, each on its address,
// answered by the master itself so they answer whatever the workers do. Runs in the master.
import { parseTcpBind } from '@bicorn/config';
import { BicornError } from '@bicorn/protocol';
import { createServer, type Server } from 'node:http';
import { listen } from './listeners.js';

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface EndpointServer {
  readonly address: string;
  close(): void;
}

/** Serves GET requests on `bind` with what `route` answers for each path. */
export async function serveEndpoints(bind: string, route: (path: string) => Answer | Promise<Answer>): Promise<EndpointServer> {
  const target = parseTcpBind(bind);
  if (typeof target === 'string') throw new BicornError('BIND_FAILED', { address: bind, errno: 'EINVAL', reason: target });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    void Promise.resolve(route(path)).then(
      ({ status, contentType, body }) => {
        res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', connection: 'close' });
        res.end(body);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain', connection: 'close' });
        res.end(`${(error as Error).message}\n`);
      },
    );
  });
  const address = await listen(server, bind, { kind: 'tcp', ...target }, () => server.listen({ host: target.host, port: target.port }));
  // A failed accept (EMFILE) must not take the master down; the next request tries again.
  server.on('error', () => undefined);
  return {
    address,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
