import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSettingsReference } from './reference.js';
import { settingKeys } from './settings.js';

describe('SETTINGS.md', () => {
  it('is generated from the current settings table (run `pnpm build && pnpm settings:md`)', () => {
    const committed = readFileSync(new URL('../SETTINGS.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderSettingsReference());
  });

  it('documents every setting', () => {
    const reference = renderSettingsReference();
    for (const key of settingKeys) expect(reference).toContain(`| \`${key}\` |`);
  });
});
