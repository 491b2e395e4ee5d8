// Turns the master's stop signals into commands; nothing else happens in a signal handler.
import type { Command, StopSignal } from './commands.js';

const stopSignals: readonly StopSignal[] = ['SIGTERM', 'SIGINT', 'SIGQUIT'];

/** Installs the handlers; returns a function that removes them. */
export function forwardSignals(enqueue: (command: Command) => void): () => void {
  const handlers = stopSignals.map((signal) => {
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
