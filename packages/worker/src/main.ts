// The worker process's entry, forked by the master through node:cluster: wait for the boot
// message, load the app, serve the connections the master hands over, drain and exit when
// told. The only place in a worker that exits the process.
import { reviveConfig } from '@bicorn/config';
import {
  BicornError,
  ExitCode,
  assertNever,
  isBicornError,
  parseMasterMessage,
  type MasterMessage,
  type WorkerMessage,
} from '@bicorn/protocol';
import { createAccessLog, createLogger } from '@bicorn/runtime';
import type { Socket } from 'node:net';
import { loadAppHost } from './app-host.js';
import { WorkerServer } from './http-server.js';

// Ctrl-C reaches the whole process group; the master decides how its workers stop.
process.on('SIGINT', () => undefined);

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => process.send?.(message, undefined, {}, () => { resolve(); }));
}

const boot = await handshake();
if (boot.type !== 'boot') throw new BicornError('IPC_INVALID', { reason: `expected boot, got ${boot.type}` });
const config = reviveConfig(boot.config);
const { log, destination } = createLogger({
  role: 'worker',
  workerId: boot.workerId,
  level: config.log_level,
  format: config.log_format,
  destination: config.error_log,
});

function exit(code: ExitCode): never {
  destination.flush();
  process.exit(code);
}

process.on('uncaughtException', (error) => {
  log.fatal({ err: error }, 'uncaught exception in worker');
  exit(ExitCode.RuntimeFailure);
});

let server: WorkerServer;
try {
  const app = await loadAppHost(config, log);
  server = new WorkerServer(app.listener, {
    keepAliveMs: config.keep_alive * 1000,
    log,
    accessLog: config.access_log === null ? undefined : createAccessLog(config.access_log, config.log_format, boot.workerId),
  });
  await send({ type: 'ready', interface: app.interface });
} catch (error) {
  const failure = isBicornError(error) ? error : undefined;
  log.debug({ err: error }, 'worker could not boot');
  await send({
    type: 'boot-failed',
    exitCode: failure?.exitCode ?? ExitCode.WorkerBoot,
    message: failure?.message ?? `worker could not boot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  });
  exit(failure?.exitCode ?? ExitCode.WorkerBoot);
}

let stopping = false;
async function stop(mode: 'graceful' | 'fast', timeoutMs: number): Promise<void> {
  if (stopping && mode === 'graceful') return;
  stopping = true;
  log.debug({ mode, inFlight: server.inFlight }, 'draining');
  void send({ type: 'draining', inFlight: server.inFlight });
  await server.drain(mode, timeoutMs);
  exit(ExitCode.Ok);
}

// A TERM sent to the worker alone (or to the whole group, as systemd does) drains it.
process.on('SIGTERM', () => void stop('graceful', config.graceful_timeout * 1000));

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
      server.accept(handle as Socket);
      return;
    case 'stop':
      void stop(message.mode, message.timeoutMs);
      return;
    case 'boot':
      log.warn('unexpected second boot message');
      return;
    default:
      assertNever(message, 'master message');
  }
});

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
