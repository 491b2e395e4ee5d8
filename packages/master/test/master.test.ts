import { resolveConfig } from '@bicorn/config';
import { ExitCode } from '@bicorn/protocol';
import pino from 'pino';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runMaster } from '../src/master.js';

const tinyWorker = fileURLToPath(new URL('./fixtures/tiny-worker.mjs', import.meta.url));

function start(workers: number) {
  const lines: Record<string, unknown>[] = [];
  let onLine = (): void => undefined;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      onLine();
      done();
    },
  });
  const { config } = resolveConfig({ workers: { value: String(workers), flag: '-w' }, bind: { value: ['127.0.0.1:0'], flag: '-b' } }, {}, undefined);
  const done = runMaster({ config, workerEntry: tinyWorker, log: pino({ level: 'info' }, sink) });
  const waitFor = (msg: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      onLine = () => {
        const found = lines.find((l) => l.msg === msg);
        if (found !== undefined) resolve(found);
      };
      onLine();
    });
  return { done, waitFor, lines };
}

afterEach(() => {
  delete process.env.BEHAVIOUR;
});

describe('runMaster with a tiny fixture worker', () => {
  it('binds port 0, logs the real address, and spreads connections over its workers', async () => {
    const master = start(2);
    const listening = await master.waitFor('listening');
    const [address] = listening.addresses as string[];
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) answers.add(await (await fetch(`http://${address ?? ''}/`)).text());
    expect(answers).toEqual(new Set(['1', '2']));
    process.emit('SIGTERM', 'SIGTERM');
    expect(await master.done).toBe(ExitCode.Ok);
  });

  it('rejects with the exit code of a worker that could not load its app', async () => {
    process.env.BEHAVIOUR = 'fail-boot';
    const master = start(1);
    await expect(master.done).rejects.toMatchObject({ code: 'WORKER_BOOT_FAILED', exitCode: ExitCode.AppLoad, message: 'app tiny failed to load' });
  });
});
