// What a serving master and worker load: each module a plain HTTP/1.1 server has no use for
// costs every process its memory (node:tls, node:http2 and node:crypto hold about 1.2 MiB
// together, cosmiconfig and js-yaml more), and only the bench's idle memory would show it.
// A preload script writes each process's lists at its exit.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { tempDir } from './support/temp-dir.js';

interface Loaded {
  /** Node's own modules, as `process.moduleLoadList` names them ("NativeModule tls"). */
  readonly internal: string[];
  /** Files of CommonJS packages (`require.cache`): ES modules leave no list. */
  readonly packages: string[];
}

// A worker is forked with an IPC channel, which the master, spawned here, has not: so the
// preload tells them apart without loading node:cluster.
const PRELOAD = `
const { writeFileSync } = require('node:fs');
const role = typeof process.send === 'function' ? 'worker' : 'master';
process.on('exit', () => {
  writeFileSync(require('node:path').join(__dirname, role + '-' + process.pid + '.json'),
    JSON.stringify({ internal: process.moduleLoadList, packages: Object.keys(require.cache) }));
});
`;

const UNNEEDED_INTERNAL = ['NativeModule tls', 'NativeModule _tls_wrap', 'NativeModule http2', 'NativeModule crypto'];
const UNNEEDED_PACKAGES = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(?:cosmiconfig|js-yaml)\//;

describe('a server of plain HTTP/1.1', () => {
  it('loads neither TLS, HTTP/2, crypto, nor the config search, in its master or its worker', async () => {
    const dir = tempDir('bicorn-modules-');
    writeFileSync(join(dir, 'preload.cjs'), PRELOAD);
    const bicorn = new BicornProcess(['-w', '1', '-b', '127.0.0.1:0', '--interface', 'node', fixture('apps/node.mjs:app')], {
      cwd: dir,
      env: { NODE_OPTIONS: `--require ${join(dir, 'preload.cjs')}` },
    });
    const url = await bicorn.listening();
    expect((await get(url)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);

    const lists = readdirSync(dir).filter((name) => name.endsWith('.json'));
    expect(lists.map((name) => name.split('-')[0]).sort()).toEqual(['master', 'worker']);
    for (const name of lists) {
      const loaded = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Loaded;
      // The preload's own lists must be there, or the test checks nothing.
      expect(loaded.internal).toContain('NativeModule net');
      expect({ process: name, internal: loaded.internal.filter((module) => UNNEEDED_INTERNAL.includes(module)) }).toEqual({ process: name, internal: [] });
      expect({ process: name, packages: loaded.packages.filter((file) => UNNEEDED_PACKAGES.test(file)) }).toEqual({ process: name, packages: [] });
    }
  });
});
