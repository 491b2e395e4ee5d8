// The Django project's sqlite database (the items table and its rows, apps/django_site/
// create_db.py), made once per run in a temporary folder. Runs in the harness process.
import { join } from 'node:path';
import { appsDir, venvBin } from './paths.mjs';
import { startProcess, stopProcess } from './processes.mjs';

/** Creates bench.sqlite3 in `dir`; resolves its path, for BENCH_DJANGO_DB. */
export async function createDjangoDb(dir) {
  const file = join(dir, 'bench.sqlite3');
  const proc = startProcess('create_db', join(venvBin, 'python'), ['create_db.py'], {
    cwd: join(appsDir, 'django_site'),
    env: { ...process.env, BENCH_DJANGO_DB: file, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const timer = setTimeout(() => void stopProcess(proc, 1000), 60_000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`create_db.py failed (exit ${code}):\n${proc.output()}`);
  return file;
}
