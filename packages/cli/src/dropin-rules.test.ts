import { settingKeys, settings, type Setting } from '@bicorn/config';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { booleanValued } from './argv.js';
import { dropinRules } from './dropin-rules.js';
import { defaultDifferences, renderDropinTable } from './dropin-table.js';
import { peerFlags } from './peer-flags.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const { gunicorn, uvicorn } = peerFlags();

/** Every flag of both tools, with whether it takes a value there. */
const peerOptions = [
  ...gunicorn.settings.flatMap((s) => s.flags.map((flag) => ({ flag, takes: s.takes, boolean: false }))),
  ...uvicorn.params.flatMap((p) => [...p.flags, ...p.negations].map((flag) => ({ flag, takes: p.takes, boolean: p.boolean }))),
];
const peerFlagNames = new Set(peerOptions.map((o) => o.flag));
const declared = (key: (typeof settingKeys)[number]): Setting<unknown, unknown> => settings[key];
const settingOf = (flag: string) => settingKeys.find((key) => declared(key).flags.includes(flag));

describe('the drop-in table', () => {
  it('gives every gunicorn and uvicorn flag exactly one meaning: a setting, or a drop-in rule', () => {
    const meanings = [...peerFlagNames].map((flag) => ({ flag, count: (settingOf(flag) === undefined ? 0 : 1) + dropinRules.filter((r) => r.flags.includes(flag)).length }));
    expect(meanings.filter((m) => m.count !== 1)).toEqual([]);
  });

  it('has rules only for flags that gunicorn or uvicorn has', () => {
    expect(dropinRules.flatMap((r) => r.flags).filter((flag) => !peerFlagNames.has(flag))).toEqual([]);
  });

  it('takes a value where the tool does, or reads its BOOLEAN value as a flag', () => {
    const wrong = peerOptions.filter(({ flag, takes, boolean }) => {
      const key = settingOf(flag);
      const rule = dropinRules.find((r) => r.flags.includes(flag));
      const bicornTakes = key !== undefined ? (declared(key).type.placeholder === '' ? 'none' : 'value') : rule?.kind === 'rule' ? rule.takes : rule?.kind === 'by-value' ? 'value' : takes;
      return boolean && takes === 'value' ? !booleanValued.includes(flag) || bicornTakes !== 'none' : bicornTakes !== takes;
    });
    expect(wrong).toEqual([]);
  });

  it('compares defaults only of settings that exist', () => {
    for (const { key } of defaultDifferences) expect(settingKeys).toContain(key);
  });

  it('is what docs/dropin.md says (run `pnpm build && pnpm settings:md`)', () => {
    expect(readFileSync(`${repo}docs/dropin.md`, 'utf8')).toBe(renderDropinTable());
  });
});

// The snapshot is read from the packages the project pins; where .venv has other versions (or
// none), this test cannot tell, and says so.
const venvPython = `${repo}.venv/bin/python`;
const installed = spawnSync(venvPython, ['-c', 'import gunicorn, uvicorn; print(gunicorn.__version__, uvicorn.__version__)'], { encoding: 'utf8' }).stdout.trim();
const pinned = `${gunicorn.version} ${uvicorn.version}`;
const why = installed === pinned ? '' : ` (skipped: .venv has ${installed === '' ? 'no gunicorn or uvicorn' : `gunicorn and uvicorn ${installed}`}, not ${pinned}; run \`pnpm python:setup\`)`;

describe('peer-flags.json', () => {
  it.skipIf(why !== '')(`is the snapshot of the gunicorn and uvicorn in .venv (\`.venv/bin/python scripts/peer-flags.py\`)${why}`, () => {
    const fresh = spawnSync(venvPython, [`${repo}scripts/peer-flags.py`, '--stdout'], { encoding: 'utf8' });
    expect(fresh.stderr).toBe('');
    expect(readFileSync(`${repo}packages/cli/peer-flags.json`, 'utf8')).toBe(fresh.stdout);
  });
});
