// The worker process's entry, forked by the master through node:cluster: say hello, boot from
// the master's answer, serve the connections it hands over, drain and exit when told. The
// only place in a worker that exits the process.
import {
  BicornError,
  ExitCode,
  assertNever,
  isBicornError,
  parseMasterMessage,
  type MasterMessage,
  type StopMode,
  type WorkerMessage,
} from '@bicorn/protocol';
import { holdYoungGeneration, releaseYoungGeneration } from '@bicorn/runtime/boot-heap';
import { keepTickShape } from '@bicorn/runtime/tick-shape';
import cluster from 'node:cluster';
import { Socket } from 'node:net';
import type { RunningWorker } from './boot.js';
import { dropToUser } from './initgroups.js';
import { LoadReporter } from './load-reporter.js';

// Before the front, the gateway and the app load; given back once the worker serves.
holdYoungGeneration();
// A worker goes quiet between bursts of requests; nextTick must stay fast after it does.
keepTickShape();
const { bootWorker } = await import('./boot.js');

dropToUser(process.argv.slice(2));

// Ctrl-C reaches the whole process group, and `systemctl kill` the whole cgroup: the master
// decides how its workers stop, reload, scale and reopen logs.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1'] as const) process.on(signal, () => undefined);

// A master that dies without a stop (SIGKILL, the OOM killer) closes the IPC channel, on which
// node:cluster would end this worker at once, cutting what it serves. Marked as expected, the
// disconnect is ours to handle: a booted worker drains (its requests in flight finish, no new
// connection can come), then exits; one still booting exits now. Never an orphan that serves on.
if (cluster.worker !== undefined) cluster.worker.exitedAfterDisconnect = true;
let onMasterGone = (): void => {
  process.exit(ExitCode.Ok);
};
process.once('disconnect', () => {
  onMasterGone();
});

// Until it serves, the master stops this worker with SIGTERM (it reads no message while the app
// loads): a stop it asked for, so a clean exit. The Python process follows as its pipe closes.
const stopWhileBooting = (): void => {
  process.exit(ExitCode.Ok);
};
process.once('SIGTERM', stopWhileBooting);

const boot = await handshake();
// A master that stops while this worker starts (another worker failed to boot) says stop first.
if (boot.type === 'stop') process.exit(ExitCode.Ok);
if (boot.type !== 'boot') throw new BicornError('IPC_INVALID', { reason: `expected boot, got ${boot.type}` });

let worker: RunningWorker;
try {
  worker = await bootWorker(boot, {
    appDied: (death) => void send({ type: 'app-died', cause: death.cause, inFlight: [...death.inFlight] }),
    // The master counts it as a boot failure of this slot, and replaces the worker after a back-off.
    appLost: (error) => {
      void send({ type: 'boot-failed', exitCode: error.exitCode, message: error.message }).then(() => {
        exit(error.exitCode);
      });
    },
    appSpawned: (pid) => void send({ type: 'app-process', pid }),
    recycle: (reason, detail) => void send({ type: 'recycle', reason, detail }),
    report: (stats) => void send(stats),
  });
} catch (error) {
  const failure = isBicornError(error) ? error : undefined;
  const exitCode = failure?.exitCode ?? ExitCode.WorkerBoot;
  const message = failure?.message ?? `worker could not boot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  // The master prints the message; the worker itself has nothing more to say.
  await send({ type: 'boot-failed', exitCode, message });
  process.exit(exitCode);
}
process.off('SIGTERM', stopWhileBooting);
const { config, log, server } = worker;
const loads = new LoadReporter(() => worker.load(), (message) => void send(message));
worker.watchLoad(() => {
  loads.changed();
});

function exit(code: ExitCode): never {
  worker.flushLogs();
  process.exit(code);
}

process.on('uncaughtException', (error) => {
  log.fatal({ err: error }, 'uncaught exception in worker');
  exit(ExitCode.RuntimeFailure);
});

/** How long the app gets to finish once its requests have drained. */
const APP_CLOSE_MS = 5_000;

let stopping: StopMode | undefined;
async function stop(mode: StopMode, timeoutMs: number): Promise<void> {
  if (stopping !== undefined) {
    // A fast stop during a graceful one hurries it: the connections close and the app stops now.
    if (mode === 'fast' && stopping === 'graceful') {
      stopping = 'fast';
      await server.drain('fast', 0);
      worker.destroyApp();
    }
    return;
  }
  stopping = mode;
  log.debug({ mode, inFlight: server.inFlight }, 'draining');
  void send({ type: 'draining', inFlight: server.inFlight });
  await server.drain(mode, timeoutMs);
  await worker.closeApp(mode === 'fast' ? 0 : APP_CLOSE_MS);
  exit(ExitCode.Ok);
}

// A TERM sent to the worker alone (or to the whole group, as systemd does) drains it.
process.on('SIGTERM', () => void stop('graceful', config.graceful_timeout * 1000));
onMasterGone = () => {
  log.error({ inFlight: server.inFlight }, 'the master is gone (killed?): finishing the requests in flight, then exiting');
  void stop('graceful', config.graceful_timeout * 1000);
};

process.on('message', (raw: unknown, handle: unknown) => {
  let message: MasterMessage;
  try {
    message = parseMasterMessage(raw);
  } catch (error) {
    log.error({ err: error }, 'invalid message from master');
    return;
  }
  switch (message.type) {
    case 'connection':
      if (handle instanceof Socket) {
        server.accept(handle, message.listener, () => {
          loads.accepted();
        });
      } else {
        log.warn({ listener: message.listener }, 'connection message without a socket; ignored');
        loads.accepted();
      }
      return;
    case 'stop':
      void stop(message.mode, message.timeoutMs);
      return;
    case 'ping':
      void send({ type: 'pong', seq: message.seq });
      return;
    case 'reopen-logs':
      worker.reopenLogs();
      return;
    case 'workers':
      worker.workersChanged(message.count);
      return;
    case 'boot':
      log.warn('unexpected second boot message');
      return;
    default:
      assertNever(message, 'master message');
  }
});

await send({ type: 'ready', interface: worker.appInterface, loadError: worker.loadError });
releaseYoungGeneration();

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => process.send?.(message, undefined, {}, () => { resolve(); }));
}

/** Says hello once listening, and resolves with the master's answer. */
function handshake(): Promise<MasterMessage> {
  const next = new Promise<MasterMessage>((resolve, reject) => {
    process.once('message', (raw: unknown) => {
      try {
        resolve(parseMasterMessage(raw));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
  void send({ type: 'hello' });
  return next;
}
