import { describe, expect, it } from 'vitest';
import { repoRoot, runBicorn } from './support/bicorn-process.js';

describe('the deployment examples in configs/', () => {
  it('bicorn.config.mjs passes bicorn check', async () => {
    const { code, stdout, stderr } = await runBicorn(['check', '-c', 'configs/bicorn.config.mjs'], { cwd: repoRoot });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('config file configs/bicorn.config.mjs');
  });
});
