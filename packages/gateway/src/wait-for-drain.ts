// Waiting until a response's buffered bytes have gone to the client, or it closed. Used by
// every host that writes a body with backpressure; runs in the worker.
import type { ServerResponse } from 'node:http';

export function waitForDrain(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
