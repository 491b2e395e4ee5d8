// Where this package's pieces are on disk: the worker entry the master forks, and our version.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function workerEntry(): string {
  return fileURLToPath(import.meta.resolve('@bicorn/worker/main'));
}

export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
