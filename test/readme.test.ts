// The README's two set-up lines, as a newcomer runs them: the first puts bicorn on the PATH for
// the examples that use it bare, the second runs the whole suite with the Python test env.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/bicorn-process.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const setup = /^```sh\n(.*)\n(.*)\n```$/m.exec(readme);
const [, serveLine = '', testLine = ''] = setup ?? [];

describe("README's set-up lines", () => {
  it('are exactly two, at the top', () => {
    expect(setup?.index).toBeLessThan(readme.indexOf('\n## '));
    expect(serveLine).toMatch(/^npm install -g pnpm@[\d.]+ && pnpm install && /);
    expect(testLine).toMatch(/^npm install -g pnpm@[\d.]+ && pnpm install && pnpm test$/);
  });

  it("put bicorn on the PATH the way the first one does, so the examples' bare bicorn runs", () => {
    // The part between the install and the first bicorn: what the newcomer's shell runs.
    const steps = serveLine.split(' && ');
    const first = steps.findIndex((step) => step.startsWith('bicorn '));
    expect(first).toBeGreaterThan(2);
    const path = steps.slice(2, first).join(' && ');
    // A PATH without any bicorn, as on a machine that never installed it.
    const bare = spawnSync('sh', ['-c', `${path} && command -v bicorn && bicorn --version`], { cwd: repoRoot, env: { PATH: `${join(process.execPath, '..')}:/usr/bin:/bin` }, encoding: 'utf8' });
    expect(bare.stderr).toBe('');
    expect(bare.stdout).toMatch(new RegExp(`^${join(repoRoot, 'node_modules/.bin/bicorn')}\\n\\d+\\.\\d+\\.\\d+\\n$`));
    expect(spawnSync('sh', ['-c', 'command -v bicorn'], { env: { PATH: `${join(process.execPath, '..')}:/usr/bin:/bin` } }).status).not.toBe(0);
  });

  it('sets the Python test env up from the test line, where python3 -m venv works', () => {
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toMatch(/bash scripts\/python-env\.sh --if-possible && vitest run$/);
    const without = spawnSync('bash', ['scripts/python-env.sh', '--if-possible'], { cwd: repoRoot, env: { PATH: '/usr/bin:/bin', PYTHON: '/no/such/python3' }, encoding: 'utf8' });
    expect(without.status).toBe(0);
    expect(without.stderr).toMatch(/^python-env: \/no\/such\/python3 not found; .*; the tests that need \.venv \(Django, Flask, FastAPI, Starlette, websockets\) will skip\n$/);
  });
});

describe("README's Performance tables", () => {
  it('are those of the committed bench report, as scripts/bench/readme-tables.mjs makes them', () => {
    const made = spawnSync(process.execPath, ['scripts/bench/readme-tables.mjs'], { cwd: repoRoot, encoding: 'utf8' });
    expect(made.stderr).toBe('');
    const tables = made.stdout.trim().split('\n\n');
    expect(tables).toHaveLength(2);
    for (const table of tables) expect(readme).toContain(`\n${table}\n`);
  });
});
