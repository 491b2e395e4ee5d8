// --log-config (uvicorn's and gunicorn's): the Python app's logging configured from a file before
// the app is imported, in each worker's Python process.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { hasPython, noPython } from './support/python.js';
import { pollUntil } from './support/poll.js';
import { tempDir } from './support/temp-dir.js';

const APP = `
import logging

log = logging.getLogger("shop")
log.info("imported")

def application(environ, start_response):
    log.warning("served %s", environ["PATH_INFO"])
    start_response("200 OK", [])
    return [b""]
`;

describe.skipIf(!hasPython)(`--log-config${noPython}`, () => {
  it("configures the app's Python logging from a dictConfig JSON file, before the app is imported", async () => {
    const dir = tempDir('bicorn-log-config-');
    const logFile = join(dir, 'app.log');
    writeFileSync(join(dir, 'app.py'), APP);
    writeFileSync(join(dir, 'logging.json'), JSON.stringify({
      version: 1,
      formatters: { plain: { format: '%(levelname)s %(name)s %(message)s' } },
      handlers: { file: { class: 'logging.FileHandler', filename: logFile, formatter: 'plain' } },
      root: { handlers: ['file'], level: 'INFO' },
    }));
    const bicorn = new BicornProcess(['--log-config', 'logging.json', '-b', '127.0.0.1:0', '--python', 'python3', '--chdir', dir, 'app:application']);
    const url = await bicorn.listening();
    expect((await get(`${url}/cart`)).status).toBe(200);
    const lines = await pollUntil('the request logged', () => {
      const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      return text.includes('served') ? text : undefined;
    });
    expect(lines).toBe('INFO shop imported\nWARNING shop served /cart\n');
    expect((await bicorn.stop()).code).toBe(0);
  });
});
