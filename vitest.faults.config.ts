import { defineConfig } from 'vitest/config';

// The fault suite (pnpm test:faults): real servers under kills, crashes, stuck apps and floods.
// One file at a time, so that the load one test makes never skews another's figures.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 30_000,
  },
});
