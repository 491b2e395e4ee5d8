// The files of the static group: a 2 KiB stylesheet, a 1 MiB image (within what bicorn keeps in
// memory) and an 8 MiB video (streamed from disk), written once per run into a temporary
// folder that bicorn (--static), nginx and WhiteNoise all serve under /static/. Runs in the
// harness process.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KiB = 1024;
const MiB = 1024 * KiB;

export const staticFiles = {
  css: { path: '/static/css/app.css', bytes: 2 * KiB },
  image: { path: '/static/img/photo.jpg', bytes: MiB },
  video: { path: '/static/media/clip.mp4', bytes: 8 * MiB },
};

/** Writes the files under `dir`/static; returns `dir`/static. */
export function writeStaticFiles(dir) {
  const root = join(dir, 'static');
  const rule = '.card { margin: 0 auto; padding: 1rem; color: #333; }\n';
  for (const { path, bytes } of Object.values(staticFiles)) {
    const file = join(dir, path);
    mkdirSync(join(file, '..'), { recursive: true });
    // Incompressible bytes for the media; text for the stylesheet.
    writeFileSync(file, path.endsWith('.css') ? rule.repeat(Math.ceil(bytes / rule.length)).slice(0, bytes) : randomBytes(bytes));
  }
  // nginx's workers run as nobody, who must reach the files.
  chmodSync(dir, 0o755);
  return root;
}
