// The master's entry: bind the listeners, start the arbiter and its workers, and resolve
// with the exit code once everything has stopped. Library code: it throws, never exits.
import type { Config } from '@bicorn/config';
import { ExitCode } from '@bicorn/protocol';
import { checkLogFile, type Logger } from '@bicorn/runtime';
import { Arbiter } from './arbiter.js';
import { clusterHost } from './cluster-host.js';
import { Dispatcher } from './dispatch.js';
import { bindListeners, closeListeners } from './listeners.js';
import { forwardSignals } from './signals.js';

export interface MasterOptions {
  readonly config: Config;
  /** Path of the worker's entry module, forked by node:cluster. */
  readonly workerEntry: string;
  readonly log: Logger;
}

/** Runs until stopped; resolves with ExitCode.Ok, or rejects with the BicornError that stopped it. */
export async function runMaster({ config, workerEntry, log }: MasterOptions): Promise<ExitCode> {
  // Workers open the access log; a path they cannot open is caught here, before any binds.
  checkLogFile(config.access_log, 'access_log');
  const dispatcher = new Dispatcher();
  const listeners = await bindListeners(config.bind, config.backlog, {
    connection: (listener, socket) => {
      dispatcher.dispatch(listener, socket);
    },
    error: (address, error) => {
      log.error({ address, err: error }, 'listener error');
    },
  });
  let arbiter: Arbiter | undefined;
  const removeSignalHandlers = forwardSignals((command) => arbiter?.enqueue(command));
  try {
    arbiter = new Arbiter({
      config,
      host: clusterHost(workerEntry, config, (command) => arbiter?.enqueue(command)),
      dispatcher,
      log,
      stopAccepting: () => {
        closeListeners(listeners);
      },
      onReady: () => {
        log.info({ addresses: listeners.map((l) => l.address), workers: config.workers }, 'listening');
      },
    });
    log.info({ workers: config.workers, app: config.app }, 'starting');
    arbiter.start();
    const outcome = await arbiter.done;
    if ('error' in outcome) throw outcome.error;
    log.info('stopped');
    return ExitCode.Ok;
  } finally {
    removeSignalHandlers();
    closeListeners(listeners);
  }
}
