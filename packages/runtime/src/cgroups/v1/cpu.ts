/** cgroup v1 cpu controller: shares, CFS quota/period/burst, realtime, idle, throttling stats. */
import type { LinuxResources } from '@berth/oci';
import { BerthError } from '@berth/oci';
import { parseFlatKeyed, readOptional, writeControl } from '../files.js';
import type { ApplyContext, CgroupStats } from '../types.js';

const F = 'linux.resources.cpu';

/** Checks an integer spec value; `min` is the smallest allowed (-1 for "unlimited" values). */
export function intField(
  v: number | undefined,
  field: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new BerthError('CGROUP_RESOURCE_INVALID', `${field}: ${v} is not an integer in ${min}..${max}`, {
      input: { field },
    });
  return String(v);
}

/**
 * Applies `resources.cpu` (all but cpus/mems, which are cpuset's) to the cpu cgroup at `dir`.
 * The period is written before the quota, as runc does: the kernel checks the quota against
 * the period in place.
 */
export async function apply(resources: LinuxResources, dir: string, _ctx: ApplyContext): Promise<void> {
  const c = resources.cpu;
  if (!c) return;
  if (c.shares !== undefined && c.shares !== 0) {
    const shares = intField(c.shares, `${F}.shares`, 2, 262144)!;
    await writeControl(dir, 'cpu.shares', shares);
  }
  if (c.period !== undefined && c.period !== 0)
    await writeControl(dir, 'cpu.cfs_period_us', intField(c.period, `${F}.period`, 1000, 1000000)!);
  if (c.quota !== undefined && c.quota !== 0) {
    const quota = c.quota < 0 ? '-1' : intField(c.quota, `${F}.quota`, 1000)!;
    await writeControl(dir, 'cpu.cfs_quota_us', quota);
  }
  if (c.burst !== undefined) await writeControl(dir, 'cpu.cfs_burst_us', intField(c.burst, `${F}.burst`, 0)!);
  if (c.realtimePeriod !== undefined && c.realtimePeriod !== 0)
    await writeControl(dir, 'cpu.rt_period_us', intField(c.realtimePeriod, `${F}.realtimePeriod`, 1)!);
  if (c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0)
    await writeControl(dir, 'cpu.rt_runtime_us', intField(c.realtimeRuntime, `${F}.realtimeRuntime`, -1)!);
  if (c.idle !== undefined) await writeControl(dir, 'cpu.idle', intField(c.idle, `${F}.idle`, 0, 1)!);
}

/** Throttling counters from cpu.stat (nr_periods, nr_throttled, throttled_time in ns). */
export async function throttling(dir: string): Promise<NonNullable<CgroupStats['cpu']>['throttling']> {
  const text = await readOptional(dir, 'cpu.stat');
  if (text === undefined) return undefined;
  const kv = parseFlatKeyed(text, 'cpu.stat');
  return {
    periods: kv.nr_periods ?? 0,
    throttledPeriods: kv.nr_throttled ?? 0,
    throttledTimeNs: kv.throttled_time ?? 0,
  };
}
