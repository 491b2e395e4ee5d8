// Turns the master's signals into commands; nothing else happens in a signal handler.
import type { Command, MasterSignal } from './commands.js';

const masterSignals: readonly MasterSignal[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1'];

/** Installs the handlers; returns a function that removes them. */
export function forwardSignals(enqueue: (command: Command) => void): () => void {
  const handlers = masterSignals.map((signal) => {
    const handler = (): void => {
      enqueue({ type: 'signal', signal });
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => {
    for (const remove of handlers) remove();
  };
}
