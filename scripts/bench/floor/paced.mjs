// What a request costs each server's processes at a steady rate below what they can serve, as
// most deployed apps run, rather than at full load as `pnpm bench` measures: bicorn against
// uvicorn (ASGI hello) or gunicorn sync (WSGI hello) at one worker, each sent `rate` requests a
// second on 64 keep-alive connections for `seconds`, in interleaved rounds; CPU µs per request
// of each process from /proc. Not part of `pnpm bench`.
//   node scripts/bench/floor/paced.mjs [asgi|wsgi] [rate=1000] [seconds=8] [rounds=3]
import { Agent, request } from 'node:http';
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

/**
 * Sends `perSecond` GETs a second to `base` for `forSeconds`, each on a free connection of 64;
 * a request due while all 64 are busy is counted as missed, not sent later. Resolves the counts.
 */
function pacedLoad(base, perSecond, forSeconds) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const counts = { sent: 0, answered: 0, missed: 0, failed: 0 };
  let busy = 0;
  const started = performance.now();
  return new Promise((resolve) => {
    const send = () => {
      busy += 1;
      counts.sent += 1;
      const req = request(`${base}/`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          busy -= 1;
          if (res.statusCode === 200) counts.answered += 1;
          else counts.failed += 1;
        });
      });
      req.on('error', () => {
        busy -= 1;
        counts.failed += 1;
      });
      req.end();
    };
    const tick = () => {
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed >= forSeconds) {
        clearInterval(timer);
        // The last answers, then the connections go.
        const settle = setInterval(() => {
          if (busy > 0 && performance.now() - started < (forSeconds + 5) * 1000) return;
          clearInterval(settle);
          agent.destroy();
          resolve(counts);
        }, 10);
        return;
      }
      const due = Math.floor(elapsed * perSecond) - counts.sent - counts.missed;
      for (let i = 0; i < due; i += 1) {
        if (busy < CONNECTIONS) send();
        else counts.missed += 1;
      }
    };
    const timer = setInterval(tick, 1);
  });
}

// Interrupted or failing, it leaves none of the servers it started running.
stopAllOnSignals(() => undefined);

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
      await pacedLoad(handle.base, Number(rate), round === 1 ? 5 : 1);
      const before = handle.processes();
      const counts = await pacedLoad(handle.base, Number(rate), Number(seconds));
      const after = handle.processes();
      const roles = Object.entries(cpuBetween(before, after).byRole).map(([role, { seconds: s }]) => [role, (s * 1e6) / counts.answered]);
      const tree = roles.reduce((sum, [, us]) => sum + us, 0);
      const byRole = roles.map(([role, us]) => `${role} ${us.toFixed(0)}`).join(', ');
      console.log(`round ${round} ${handle.label.padEnd(13)} answered ${counts.answered} (missed ${counts.missed}, failed ${counts.failed}): tree ${tree.toFixed(0)} µs (${byRole})`);
    }
  }
} finally {
  for (const handle of handles) await handle.stop();
  await stopAll();
}
