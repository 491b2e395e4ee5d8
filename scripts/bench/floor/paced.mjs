// What a request costs each server's processes at a steady rate below what they can serve, as
// most deployed apps run, at any rate and length (`pnpm bench` has such rows at 1,000 a second):
// bicorn against uvicorn (ASGI hello) or gunicorn sync (WSGI hello) at one worker, each sent
// `rate` requests a second on 64 keep-alive connections for `seconds` (paced-load.mjs), in
// interleaved rounds; CPU µs per request of each process from /proc.
//   node scripts/bench/floor/paced.mjs [asgi|wsgi] [rate=1000] [seconds=8] [rounds=3]
import { runPacedLoad } from '../load.mjs';
import { stopAll, stopAllOnSignals } from '../processes.mjs';
import { cpuBetween } from '../run.mjs';
import { startServer } from '../servers.mjs';
import { appsDir } from '../paths.mjs';

const [kind = 'asgi', rate = '1000', seconds = '8', rounds = '3'] = process.argv.slice(2);
const CONNECTIONS = 64;
const peers = {
  asgi: { target: 'asgi_hello:app', peer: { id: 'uvicorn', label: 'uvicorn', server: 'uvicorn' } },
  wsgi: { target: 'wsgi_hello:application', peer: { id: 'gunicorn-sync', label: 'gunicorn sync', server: 'gunicorn', workerClass: 'sync' } },
};
const chosen = peers[kind];
if (chosen === undefined || !(Number(rate) > 0) || !(Number(seconds) > 0) || !(Number(rounds) >= 1)) {
  console.error('usage: paced.mjs [asgi|wsgi] [rate=1000] [seconds=8] [rounds=3]');
  process.exit(2);
}

// Interrupted or failing, it leaves none of the servers it started running.
stopAllOnSignals();

const app = { kind: 'python', cwd: appsDir, target: chosen.target, probe: '/', expect: 'Hello', env: {} };
const entries = [{ id: 'bicorn', label: 'bicorn', server: 'bicorn', interface: kind }, chosen.peer];
const handles = [];
try {
  for (const entry of entries) handles.push(await startServer(entry, app, 1));
  console.log(`CPU µs per request at ${rate} req/s, ${kind.toUpperCase()} hello, -w 1, ${CONNECTIONS} keep-alive connections, ${seconds} s runs`);
  for (let round = 1; round <= Number(rounds); round += 1) {
    for (const handle of handles) {
      // The first round warms longer: at these rates V8 is still optimizing bicorn's worker
      // for its first few seconds.
      const load = (forSeconds) => runPacedLoad({ url: `${handle.base}/`, rate: Number(rate), connections: CONNECTIONS, seconds: forSeconds, timeoutSeconds: 5 });
      await load(round === 1 ? 5 : 1);
      const before = handle.processes();
      const result = await load(Number(seconds));
      const after = handle.processes();
      const roles = Object.entries(cpuBetween(before, after).byRole).map(([role, { seconds: s }]) => [role, (s * 1e6) / result.requests]);
      const tree = roles.reduce((sum, [, us]) => sum + us, 0);
      const byRole = roles.map(([role, us]) => `${role} ${us.toFixed(0)}`).join(', ');
      console.log(`round ${round} ${handle.label.padEnd(13)} answered ${result.requests} (missed or failed ${result.errors}): tree ${tree.toFixed(0)} µs (${byRole})`);
    }
  }
} finally {
  for (const handle of handles) await handle.stop();
  await stopAll();
}
