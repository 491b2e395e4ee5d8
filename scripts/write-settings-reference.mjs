// Regenerates packages/config/SETTINGS.md from the settings table, and docs/dropin.md from it,
// the drop-in rules and the snapshot of gunicorn's and uvicorn's flags (run after `pnpm build`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { renderDropinTable } from '../packages/cli/dist/dropin-table.js';
import { renderSettingsReference } from '../packages/config/dist/index.js';

for (const [path, render] of [
  ['../packages/config/SETTINGS.md', renderSettingsReference],
  ['../docs/dropin.md', renderDropinTable],
]) {
  const target = new URL(path, import.meta.url);
  mkdirSync(new URL('.', target), { recursive: true });
  writeFileSync(target, render());
  console.log(`wrote ${target.pathname}`);
}
