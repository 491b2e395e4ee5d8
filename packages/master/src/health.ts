// The health endpoints (--health-bind), served by the master itself so they answer whatever the
// workers do: /livez while the master runs, /readyz by the arbiter's readiness, for load
// balancers and Kubernetes probes. Runs in the master.
import { parseTcpBind } from '@bicorn/config';
import { BicornError } from '@bicorn/protocol';
import { createServer, type Server } from 'node:http';
import type { Readiness } from './arbiter.js';
import { listen } from './listeners.js';

export interface HealthServer {
  readonly address: string;
  close(): void;
}

export async function serveHealth(bind: string, readiness: () => Readiness): Promise<HealthServer> {
  const target = parseTcpBind(bind);
  if (typeof target === 'string') throw new BicornError('BIND_FAILED', { address: bind, errno: 'EINVAL', reason: target });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const state = readiness();
    const [status, body] = path === '/livez' ? [200, 'alive'] : path === '/readyz' ? [state === 'ready' ? 200 : 503, state] : [404, 'not found: try /livez or /readyz'];
    res.writeHead(status, { 'content-type': 'text/plain', 'cache-control': 'no-store', connection: 'close' });
    res.end(`${body}\n`);
  });
  const address = await listen(server, bind, { kind: 'tcp', ...target }, () => server.listen({ host: target.host, port: target.port }));
  // A failed accept (EMFILE) must not take the master down; the next probe tries again.
  server.on('error', () => undefined);
  return {
    address,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
