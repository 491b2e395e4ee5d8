import { describe, expect, it } from 'vitest';
import { repoRoot, runBicorn } from './support/bicorn-process.js';

describe('the deployment examples in configs/', () => {
  it('bicorn.config.mjs passes bicorn check', async () => {
    const { code, stdout, stderr } = await runBicorn(['check', '-c', 'configs/bicorn.config.mjs'], { cwd: repoRoot });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('config file configs/bicorn.config.mjs');
  });

  it('django-static/bicorn.config.yaml passes bicorn check and serves /static/ from staticfiles', async () => {
    const { code, stdout, stderr } = await runBicorn(['check', '-c', 'configs/django-static/bicorn.config.yaml'], { cwd: repoRoot });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/static +\["\/static\/=staticfiles"\] +configs\/django-static\/bicorn.config.yaml/);
  });
});
