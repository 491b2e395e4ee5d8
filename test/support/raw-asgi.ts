// For the end-to-end tests of test/fixtures/python/raw_asgi.py: serving it, reading back what
// it observed after a response (GET /observed), and finding the error line that names a rule.
import type { BicornProcess, LogLine } from './bicorn-process.js';
import { get } from './http.js';
import { servePython } from './python.js';

/** raw_asgi.py with one worker, so that GET /observed reads the process that served. */
export const serveRaw = (extra: readonly string[] = []): BicornProcess => servePython('raw_asgi:app', extra);

/** Polls GET /observed until the app has recorded `key`; a bounded wait, never a fixed sleep. */
export async function observed(url: string, key: string, timeoutMs = 10_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = JSON.parse((await get(`${url}/observed`)).body) as Record<string, unknown>;
    if (key in seen) return seen[key];
    if (Date.now() > deadline) throw new Error(`the app never observed ${key}; it has ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A log line at error level or above whose content includes `text`. */
export const errorNaming = (text: string) => (line: LogLine) => line.level >= 50 && JSON.stringify(line).includes(text);

