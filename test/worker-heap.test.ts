// The V8 heap of a worker: its first old-generation limit is set so that the body buffers it
// relays at transfer speed do not set off a full mark-compact every few megabytes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess } from './support/bicorn-process.js';
import { tempDir } from './support/temp-dir.js';

describe('worker heap', () => {
  it('starts workers with --initial-old-space-size=64', async () => {
    const dir = tempDir('bicorn-heap-');
    writeFileSync(join(dir, 'app.mjs'), 'export default { fetch: () => Response.json(process.execArgv) };\n');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', join(dir, 'app.mjs')]);
    try {
      const url = await bicorn.listening();
      const execArgv = (await (await fetch(url)).json()) as string[];
      expect(execArgv).toContain('--initial-old-space-size=64');
    } finally {
      expect((await bicorn.stop()).code).toBe(0);
    }
  });
});
