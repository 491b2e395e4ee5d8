// The link of relay.mjs and raw_relay.mjs to their second process (runner.py): each request goes
// as a 4-byte record of its id, what one tick sends leaving in one write as in bicorn's worker,
// and each record that comes back (the id and a 13-byte body) goes to `answer` with the target
// the request was sent for. Python 3 on PATH must have uvloop.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RECORD = 17;

export function linkToRunner(mode, answer) {
  const runner = spawn('python3', [fileURLToPath(new URL('runner.py', import.meta.url)), mode], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  const frames = runner.stdio[3];
  const waiting = new Map();
  let next = 0;
  let corked = false;
  let rest = Buffer.alloc(0);
  frames.on('data', (chunk) => {
    const data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let at = 0;
    for (; at + RECORD <= data.length; at += RECORD) {
      const id = data.readUInt32LE(at);
      const target = waiting.get(id);
      waiting.delete(id);
      answer(target, data.subarray(at + 4, at + RECORD));
    }
    rest = data.subarray(at);
  });
  return {
    send(target) {
      next = (next + 1) >>> 0;
      waiting.set(next, target);
      const record = Buffer.allocUnsafe(4);
      record.writeUInt32LE(next);
      if (!corked) {
        corked = true;
        frames.cork();
        process.nextTick(() => {
          corked = false;
          frames.uncork();
        });
      }
      frames.write(record);
    },
    stop() {
      runner.kill();
    },
  };
}
