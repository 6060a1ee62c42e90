import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { dockerResources } from './docker.js';

const MiB = 1024 * 1024;

function flagError(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isBerthError(e, 'CGROUP_RESOURCE_INVALID')) return (e.input as { field: string }).field;
    throw e;
  }
  return undefined;
}

describe('dockerResources', () => {
  it('defaults --memory-swap to twice --memory, as the daemon does', () => {
    expect(dockerResources({ memory: 64 * MiB })).toEqual({ memory: { limit: 64 * MiB, swap: 128 * MiB } });
    expect(dockerResources({ memory: 64 * MiB, memorySwap: -1 })).toEqual({
      memory: { limit: 64 * MiB, swap: -1 },
    });
    expect(
      dockerResources({ memory: 64 * MiB, memoryReservation: 32 * MiB, oomKillDisable: true }).memory,
    ).toEqual({
      limit: 64 * MiB,
      swap: 128 * MiB,
      reservation: 32 * MiB,
      disableOOMKiller: true,
    });
  });

  it('turns --cpus into a 100 ms period and its quota', () => {
    expect(dockerResources({ cpus: 0.5 })).toEqual({ cpu: { period: 100000, quota: 50000 } });
    expect(dockerResources({ cpus: 1.5, cpuShares: 1 }).cpu).toEqual({
      period: 100000,
      quota: 150000,
      shares: 2,
    });
    expect(dockerResources({ cpuQuota: 20000, cpuPeriod: 50000 }).cpu).toEqual({
      period: 50000,
      quota: 20000,
    });
  });

  it('passes cpuset, pids and blkio weight', () => {
    expect(
      dockerResources({ cpusetCpus: '0-1,3', cpusetMems: '0', pidsLimit: 20, blkioWeight: 300 }),
    ).toEqual({
      cpu: { cpus: '0-1,3', mems: '0' },
      pids: { limit: 20 },
      blockIO: { weight: 300 },
    });
    expect(dockerResources({ pidsLimit: 0 })).toEqual({ pids: { limit: -1 } });
  });

  it('refuses what docker refuses, naming the flag', () => {
    expect(flagError(() => dockerResources({ memory: 1024 }))).toBe('--memory');
    expect(flagError(() => dockerResources({ memory: 64 * MiB, memorySwap: 32 * MiB }))).toBe(
      '--memory-swap',
    );
    expect(flagError(() => dockerResources({ memorySwap: 32 * MiB }))).toBe('--memory-swap');
    expect(flagError(() => dockerResources({ memory: 64 * MiB, memoryReservation: 128 * MiB }))).toBe(
      '--memory-reservation',
    );
    expect(flagError(() => dockerResources({ cpus: 0.5, cpuQuota: 50000 }))).toBe('--cpus');
    expect(flagError(() => dockerResources({ cpus: 4, hostCpus: 2 }))).toBe('--cpus');
    expect(flagError(() => dockerResources({ cpuPeriod: 500 }))).toBe('--cpu-period');
    expect(flagError(() => dockerResources({ cpuQuota: 10 }))).toBe('--cpu-quota');
    expect(flagError(() => dockerResources({ cpusetCpus: '0-a' }))).toBe('--cpuset-cpus');
    expect(flagError(() => dockerResources({ blkioWeight: 5 }))).toBe('--blkio-weight');
    expect(flagError(() => dockerResources({ memorySwappiness: 101 }))).toBe('--memory-swappiness');
    expect(flagError(() => dockerResources({ memory: 1.5 }))).toBe('--memory');
  });
});
