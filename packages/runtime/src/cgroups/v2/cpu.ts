/** cgroup v2 cpu controller: cpu.weight (from v1 shares), cpu.max, cpu.max.burst, cpu.idle, cpu.stat. */
import type { LinuxResources } from '@berth/oci';
import { parseFlatKeyed, readControl, writeControl } from '../files.js';
import type { ApplyContext, CgroupStats } from '../types.js';
import { intField } from '../v1/cpu.js';

const F = 'linux.resources.cpu';

/**
 * Converts v1 cpu.shares (2..262144) to v2 cpu.weight (1..10000) with the linear mapping
 * runc (ConvertCPUSharesToCgroupV2Value) and crun use: `1 + ((shares - 2) * 9999) / 262142`,
 * integer division, so 2 → 1, 1024 → 39, 262144 → 10000. 0 stays 0 (unset).
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** The cpu.max line for a quota and period (runc: `max` unless the quota is positive). */
export function cpuMax(quota: number | undefined, period: number | undefined): string | undefined {
  if (!quota && !period) return undefined;
  const q = quota !== undefined && quota > 0 ? intField(quota, `${F}.quota`, 1000)! : 'max';
  return period ? `${q} ${intField(period, `${F}.period`, 1000, 1000000)}` : q;
}

/** Applies `resources.cpu` (but cpus/mems) to the v2 cgroup at `dir`. */
export async function apply(resources: LinuxResources, dir: string, _ctx: ApplyContext): Promise<void> {
  const c = resources.cpu;
  if (!c) return;
  if (c.shares)
    await writeControl(
      dir,
      'cpu.weight',
      String(sharesToWeight(Number(intField(c.shares, `${F}.shares`, 2, 262144)))),
    );
  const max = cpuMax(c.quota, c.period);
  if (max !== undefined) await writeControl(dir, 'cpu.max', max);
  if (c.burst !== undefined) await writeControl(dir, 'cpu.max.burst', intField(c.burst, `${F}.burst`, 0)!);
  if (c.idle !== undefined) await writeControl(dir, 'cpu.idle', intField(c.idle, `${F}.idle`, 0, 1)!);
}

/** cpu.stat: usage, user, system (µs → ns) and throttling. v2 has no per-CPU usage. */
export async function stats(dir: string): Promise<NonNullable<CgroupStats['cpu']>> {
  const kv = parseFlatKeyed(await readControl(dir, 'cpu.stat'), 'cpu.stat');
  return {
    totalUsageNs: (kv.usage_usec ?? 0) * 1000,
    ...(kv.user_usec !== undefined ? { userNs: kv.user_usec * 1000 } : {}),
    ...(kv.system_usec !== undefined ? { systemNs: kv.system_usec * 1000 } : {}),
    ...(kv.nr_periods !== undefined
      ? {
          throttling: {
            periods: kv.nr_periods,
            throttledPeriods: kv.nr_throttled ?? 0,
            throttledTimeNs: (kv.throttled_usec ?? 0) * 1000,
          },
        }
      : {}),
  };
}
