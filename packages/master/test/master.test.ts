import { resolveConfig } from '@bicorn/config';
import { ExitCode } from '@bicorn/protocol';
import pino from 'pino';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { runMaster } from '../src/master.js';

const tinyWorker = fileURLToPath(new URL('./fixtures/tiny-worker.mjs', import.meta.url));

function start(workers: number, pid?: string) {
  const lines: Record<string, unknown>[] = [];
  let onLine = (): void => undefined;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      onLine();
      done();
    },
  });
  const pidFile = pid === undefined ? {} : { pid: { value: pid, flag: '--pid' } };
  const { config } = resolveConfig({ workers: { value: String(workers), flag: '-w' }, bind: { value: ['127.0.0.1:0'], flag: '-b' }, ...pidFile }, {}, undefined);
  const done = runMaster({ config, workerEntry: tinyWorker, log: pino({ level: 'info' }, sink), version: '0.0.0-test', env: {} });
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

  it('serves on, logging why, when the pid file cannot be written once the workers are ready', async () => {
    // A folder that is a dangling symlink: nothing to read at start, and nothing can be written (even as root).
    const dir = mkdtempSync(join(tmpdir(), 'bicorn-pid-'));
    symlinkSync(join(dir, 'gone'), join(dir, 'run'));
    onTestFinished(() => {
      rmSync(dir, { recursive: true });
    });
    const pidFile = join(dir, 'run', 'bicorn.pid');
    const master = start(2, pidFile);
    const failed = await master.waitFor('cannot write the pid file; serving on without it');
    expect(failed).toMatchObject({ level: 50, file: pidFile, reason: expect.stringMatching(/^cannot use pid file .*choose a writable path with --pid$/) as unknown });
    const listening = await master.waitFor('listening');
    const [address] = listening.addresses as string[];
    const answers = new Set<string>();
    for (let i = 0; i < 4; i++) answers.add(await (await fetch(`http://${address ?? ''}/`)).text());
    expect(answers).toEqual(new Set(['1', '2']));
    expect(master.lines.filter((l) => l.msg === 'invalid message from worker; killing it')).toEqual([]);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await master.done).toBe(ExitCode.Ok);
  });

  it('rejects with the exit code of a worker that could not load its app', async () => {
    process.env.BEHAVIOUR = 'fail-boot';
    const master = start(1);
    await expect(master.done).rejects.toMatchObject({ code: 'WORKER_BOOT_FAILED', exitCode: ExitCode.AppLoad, message: 'app tiny failed to load' });
  });
});
