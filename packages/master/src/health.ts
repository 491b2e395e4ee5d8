// The health endpoints (--health-bind), served by the master itself so they answer whatever the
// workers do: /livez while the master runs, /readyz by the arbiter's readiness, for load
// balancers and Kubernetes probes. Runs in the master.
import { formatBind, parseTcpBind } from '@bicorn/config';
import { BicornError } from '@bicorn/protocol';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readiness } from './arbiter.js';
import { bindFailureReason } from './listeners.js';

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
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new BicornError('BIND_FAILED', { address: bind, errno: error.code ?? 'unknown', reason: bindFailureReason(error) }));
    });
    server.listen({ host: target.host, port: target.port }, resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: formatBind({ host: address, port }),
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
