// The health endpoints (--health-bind), served by the master itself so they answer whatever the
// workers do: /livez while the master runs, /readyz by the arbiter's readiness, for load
// balancers and Kubernetes probes. Runs in the master.
import type { Readiness } from './arbiter.js';
import { serveEndpoints, type EndpointServer } from './endpoints.js';

export function serveHealth(bind: string, readiness: () => Readiness): Promise<EndpointServer> {
  return serveEndpoints(bind, (path) => {
    const state = readiness();
    const [status, body] = path === '/livez' ? [200, 'alive'] : path === '/readyz' ? [state === 'ready' ? 200 : 503, state] : [404, 'not found: try /livez or /readyz'];
    return { status, contentType: 'text/plain', body: `${body}\n` };
  });
}
