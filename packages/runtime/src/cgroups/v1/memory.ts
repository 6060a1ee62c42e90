/** cgroup v1 memory controller: limits, soft limit, swap, OOM control, stats and OOM counters. */
import type { LinuxResources } from '@berth/oci';
import { BerthError } from '@berth/oci';
import {
  hasControl,
  parseCount,
  parseCounter,
  parseFlatKeyed,
  readControl,
  readOptional,
  writeControl,
} from '../files.js';
import type { ApplyContext, CgroupStats, OomEvents } from '../types.js';

const F = 'linux.resources.memory';

function bytes(v: number | undefined, field: string): string | undefined {
  if (v === undefined || v === 0) return undefined;
  if (!Number.isSafeInteger(v) || v < -1)
    throw new BerthError('CGROUP_RESOURCE_INVALID', `${F}.${field}: ${v} is not a byte count or -1`, {
      input: { field: `${F}.${field}` },
    });
  return String(v);
}

/**
 * Applies `resources.memory` to the memory cgroup at `dir`: limit_in_bytes, memsw (memory +
 * swap, ordered against the current memsw value as runc does, since the kernel requires
 * memsw >= limit at every step), soft_limit_in_bytes (docker's --memory-reservation),
 * swappiness and oom_control.
 */
export async function apply(resources: LinuxResources, dir: string, ctx: ApplyContext): Promise<void> {
  const m = resources.memory;
  if (!m) return;
  const limit = bytes(m.limit, 'limit');
  const swap = bytes(m.swap, 'swap');
  if (
    limit !== undefined &&
    swap !== undefined &&
    swap !== '-1' &&
    limit !== '-1' &&
    Number(swap) < Number(limit)
  )
    throw new BerthError(
      'CGROUP_RESOURCE_INVALID',
      `${F}.swap: memory+swap ${swap} must not be below the memory limit ${limit}`,
      { input: { field: `${F}.swap` } },
    );
  if (swap !== undefined && !(await hasControl(dir, 'memory.memsw.limit_in_bytes'))) {
    ctx.warn({
      code: 'SWAP_LIMIT_UNSUPPORTED',
      field: `${F}.swap`,
      message:
        'the kernel has no memory.memsw.limit_in_bytes (swap accounting off): memory limited without swap',
    });
    if (limit !== undefined) await writeControl(dir, 'memory.limit_in_bytes', limit);
  } else if (swap !== undefined) {
    // memsw >= limit must hold after each write: memsw first when it grows past the current
    // limit, else the limit first (runc's setMemoryAndSwap)
    const cur = parseCounter(await readControl(dir, 'memory.limit_in_bytes'), 'memory.limit_in_bytes');
    const raise = swap === '-1' || (cur !== undefined && cur < Number(swap));
    if (raise) {
      await writeControl(dir, 'memory.memsw.limit_in_bytes', swap);
      if (limit !== undefined) await writeControl(dir, 'memory.limit_in_bytes', limit);
    } else {
      if (limit !== undefined) await writeControl(dir, 'memory.limit_in_bytes', limit);
      await writeControl(dir, 'memory.memsw.limit_in_bytes', swap);
    }
  } else if (limit !== undefined) {
    await writeControl(dir, 'memory.limit_in_bytes', limit);
  }
  const reservation = bytes(m.reservation, 'reservation');
  if (reservation !== undefined) await writeControl(dir, 'memory.soft_limit_in_bytes', reservation);
  if (m.swappiness !== undefined && m.swappiness !== null) {
    if (!Number.isInteger(m.swappiness) || m.swappiness < 0 || m.swappiness > 100)
      throw new BerthError('CGROUP_RESOURCE_INVALID', `${F}.swappiness: ${m.swappiness} is not in 0..100`, {
        input: { field: `${F}.swappiness` },
      });
    await writeControl(dir, 'memory.swappiness', String(m.swappiness));
  }
  if (m.disableOOMKiller) await writeControl(dir, 'memory.oom_control', '1');
  if (m.kernel !== undefined || m.kernelTCP !== undefined)
    ctx.warn({
      code: 'SETTING_IGNORED',
      field: `${F}.kernel`,
      message: 'kernel memory limits are deprecated and not applied (as docker 20.10+)',
    });
}

/** memory.usage_in_bytes, limit_in_bytes, max_usage_in_bytes, failcnt and memory.stat. */
export async function stats(dir: string): Promise<CgroupStats['memory']> {
  const limit = parseCounter(await readControl(dir, 'memory.limit_in_bytes'), 'memory.limit_in_bytes');
  const max = await readOptional(dir, 'memory.max_usage_in_bytes');
  const failcnt = await readOptional(dir, 'memory.failcnt');
  return {
    usage: parseCount(await readControl(dir, 'memory.usage_in_bytes'), 'memory.usage_in_bytes'),
    ...(limit !== undefined ? { limit } : {}),
    ...(max !== undefined ? { maxUsage: parseCount(max, 'memory.max_usage_in_bytes') } : {}),
    ...(failcnt !== undefined ? { failcnt: parseCount(failcnt, 'memory.failcnt') } : {}),
    stat: parseFlatKeyed(await readControl(dir, 'memory.stat'), 'memory.stat'),
  };
}

/**
 * OOM counters from memory.oom_control: `oom_kill` (kernel 4.13+) and `under_oom`. Older
 * kernels have no oom_kill line; then a kill is inferred from `under_oom`, which is only set
 * while the cgroup sits in OOM with the killer disabled, so it is reported as 0 kills.
 */
export async function oomEvents(dir: string): Promise<OomEvents> {
  const kv = parseFlatKeyed(await readControl(dir, 'memory.oom_control'), 'memory.oom_control');
  return { oomKill: kv.oom_kill ?? 0, oom: kv.under_oom ?? 0 };
}
