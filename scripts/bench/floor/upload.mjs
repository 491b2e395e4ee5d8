// The floor of a node:http front for uploads: a bare server that receives each request body
// and answers its length, dropping the chunks (`drop`) or writing them to an unlinked temporary
// file in 1 MiB batches (`file`), as bicorn's worker does with a WSGI upload it spools. What a
// 10 MiB upload costs it, beside bicorn and gunicorn, bounds what a node:http front can reach
// (scripts/bench/README.md, "The floor of two processes").
//   node upload.mjs PORT [drop|file]
import { open, unlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [port = '8000', mode = 'drop'] = process.argv.slice(2);
const BATCH = 1024 * 1024;
let count = 0;

async function receive(req, res) {
  let size = 0;
  let file;
  if (mode === 'file') {
    const path = join(tmpdir(), `bicorn-floor-${String(process.pid)}-${String(++count)}`);
    file = await open(path, 'wx+', 0o600);
    await unlink(path);
  }
  try {
    let batch = [];
    let batched = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (file === undefined) continue;
      batch.push(chunk);
      batched += chunk.length;
      if (batched >= BATCH) {
        await file.writev(batch);
        batch = [];
        batched = 0;
      }
    }
    if (file !== undefined && batch.length > 0) await file.writev(batch);
  } finally {
    await file?.close();
  }
  res.end(String(size));
}

createServer((req, res) => {
  // A client that leaves mid-upload (wrk at the end of a run) aborts the request.
  receive(req, res).catch(() => res.destroy());
}).listen(Number(port), '127.0.0.1');
