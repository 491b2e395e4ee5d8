// A vitest reporter: after the summary, the tests that skipped, grouped by why, so that a run on
// a machine without Python, Django or systemd says what it did not test. A skipping suite or test
// gives its reason in its name, with skipped() from ./skip.ts. Runs in vitest's main process.
import type { Reporter, TestModule, Vitest } from 'vitest/node';

const REASON = /\(skipped: ([^)]*(?:\([^)]*\)[^)]*)*)\)/;

export default class SkipReasons implements Reporter {
  #vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(modules: readonly TestModule[]): void {
    const vitest = this.#vitest;
    // With -t, tests that do not match are skipped too; they need no reason.
    if (vitest === undefined || vitest.config.testNamePattern !== undefined) return;
    const byReason = new Map<string, { count: number; files: Set<string> }>();
    for (const module of modules) {
      for (const test of module.children.allTests('skipped')) {
        const result = test.result();
        const note = result.state === 'skipped' ? result.note : undefined;
        const reason = note ?? REASON.exec(test.fullName)?.[1] ?? `no reason given: ${test.fullName}`;
        const group = byReason.get(reason) ?? { count: 0, files: new Set<string>() };
        group.count++;
        group.files.add(module.relativeModuleId);
        byReason.set(reason, group);
      }
    }
    if (byReason.size === 0) return;
    const total = [...byReason.values()].reduce((sum, group) => sum + group.count, 0);
    const lines = [...byReason].map(([reason, { count, files }]) => `   ${String(count).padStart(4)}  ${reason}  (${[...files].join(', ')})`);
    vitest.logger.log(`\n Skipped ${String(total)} test${total === 1 ? '' : 's'}, and why:\n${lines.join('\n')}\n`);
  }
}
