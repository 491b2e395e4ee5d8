// fd://N binds end to end: bicorn serves a listening socket it inherited, and keeps it from
// its workers. A small Python launcher opens the socket and execs bicorn, as a supervisor would.
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, runBicorn } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { hasPython, noPython } from './support/python.js';

const APP = fixture('apps/fetch.mjs');

/** Listens on 127.0.0.1, port 0, puts the socket on descriptor `fd` and execs the rest. */
const launcher = (fd: number) => [
  'python3',
  '-c',
  `import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
os.dup2(s.fileno(), ${String(fd)}); s.close()
os.execv(sys.argv[1], sys.argv[1:])`,
];

describe.skipIf(!hasPython)(`fd:// binds${noPython}`, () => {
  it('serve an inherited listening socket, which the workers do not hold', async () => {
    const bicorn = new BicornProcess(['-b', 'fd://5', '-w', '2', APP], { launcher: launcher(5) });
    const url = await bicorn.listening();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await get(`${url}/`)).body).toMatch(/^fetch \d+$/);
    const workers = bicorn.workerPids();
    expect(workers).toHaveLength(2);
    for (const pid of workers) expect(readlinkSync(`/proc/${String(pid)}/fd/5`)).toBe('/dev/null');
    expect(readlinkSync(`/proc/${String(bicorn.pid)}/fd/5`)).toMatch(/^socket:/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('refuse a descriptor that is not open, or not a socket', async () => {
    const closed = await runBicorn(['-b', 'fd://900', APP]);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toBe('bicorn: error: cannot bind fd://900: descriptor 900 is not open: pass a listening socket on it to bicorn (EBADF); choose another address with -b\n');
    // stdin is /dev/null.
    const notSocket = await runBicorn(['-b', 'fd://0', APP]);
    expect(notSocket.code).toBe(2);
    expect(notSocket.stderr).toMatch(/cannot bind fd:\/\/0: descriptor 0 is not a socket \(ENOTSOCK\)/);
  });
});
