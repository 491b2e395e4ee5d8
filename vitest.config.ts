import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // The fault suite has its own run: pnpm test:faults (vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    // End-to-end tests start real processes; give them time to boot on a busy 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // After the summary, the tests that skipped and why (no Python, no Django, no systemd...).
    reporters: ['default', './test/support/skip-reasons.ts'],
  },
});
