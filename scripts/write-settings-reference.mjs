// Regenerates packages/config/SETTINGS.md from the settings table (run after `pnpm build`).
import { writeFileSync } from 'node:fs';
import { renderSettingsReference } from '../packages/config/dist/index.js';

const target = new URL('../packages/config/SETTINGS.md', import.meta.url);
writeFileSync(target, renderSettingsReference());
console.log(`wrote ${target.pathname}`);
