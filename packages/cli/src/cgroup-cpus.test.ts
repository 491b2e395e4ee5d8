import { describe, expect, it } from 'vitest';
import { cgroupPaths, cpuMaxCpus, quotaCpus } from './cgroup-cpus.js';

describe("the cgroup's CPU quota", () => {
  it('reads cgroup v2 cpu.max and v1 cfs quota and period, "max" and -1 meaning none', () => {
    expect(cpuMaxCpus('200000 100000\n')).toBe(2);
    expect(cpuMaxCpus('50000 100000')).toBe(0.5);
    expect(cpuMaxCpus('max 100000')).toBeUndefined();
    expect(quotaCpus('150000\n', '100000\n')).toBe(1.5);
    expect(quotaCpus('-1', '100000')).toBeUndefined();
  });

  it("finds this process's v2 cgroup and v1 cpu controller in /proc/self/cgroup", () => {
    expect(cgroupPaths('0::/system.slice/mysite.service\n')).toEqual({ v2: '/system.slice/mysite.service' });
    expect(cgroupPaths('5:memory:/x\n2:cpu,cpuacct:/kubepods/pod1\n0::/\n')).toEqual({ v1cpu: '/kubepods/pod1', v2: '/' });
  });
});
