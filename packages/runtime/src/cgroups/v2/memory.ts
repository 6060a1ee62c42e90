/** cgroup v2 memory controller: memory.max, memory.swap.max, memory.low, stats, OOM events. */
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

/**
 * The spec's `memory.swap` is memory+swap (v1's memsw, docker's --memory-swap); memory.swap.max
 * wants swap alone. The rules of runc's ConvertMemorySwapToCgroupV2Value: 0 = unset, -1 = max,
 * unlimited memory with unset swap = max, otherwise swap - memory, which must not be negative.
 *
 * @returns the swap-only value, -1 for max, 0 for unset
 * @throws BerthError CGROUP_RESOURCE_INVALID
 */
export function swapOnly(memorySwap: number, memory: number): number {
  const fail = (why: string) =>
    new BerthError('CGROUP_RESOURCE_INVALID', `${F}.swap: ${why}`, { input: { field: `${F}.swap` } });
  if (memory === -1 && memorySwap === 0) return -1;
  if (memorySwap === -1 || memorySwap === 0) return memorySwap;
  if (memory === 0 || memory === -1) throw fail('a swap limit needs a memory limit');
  if (memory < 0 || memorySwap < 0) throw fail(`${memorySwap} is negative`);
  if (memorySwap < memory)
    throw fail(`memory+swap ${memorySwap} must not be below the memory limit ${memory}`);
  return memorySwap - memory;
}

function v2Bytes(v: number, field: string): string {
  if (!Number.isSafeInteger(v) || v < -1)
    throw new BerthError('CGROUP_RESOURCE_INVALID', `${F}.${field}: ${v} is not a byte count or -1`, {
      input: { field: `${F}.${field}` },
    });
  return v === -1 ? 'max' : String(v);
}

/** Applies `resources.memory` to the v2 cgroup at `dir`. */
export async function apply(resources: LinuxResources, dir: string, ctx: ApplyContext): Promise<void> {
  const m = resources.memory;
  if (!m) return;
  const limit = m.limit ?? 0;
  const swap = swapOnly(m.swap ?? 0, limit);
  if (swap !== 0) {
    if (await hasControl(dir, 'memory.swap.max'))
      await writeControl(dir, 'memory.swap.max', v2Bytes(swap, 'swap'));
    else
      ctx.warn({
        code: 'SWAP_LIMIT_UNSUPPORTED',
        field: `${F}.swap`,
        message: 'the kernel has no memory.swap.max (swap accounting off): memory limited without swap',
      });
  }
  if (limit !== 0) await writeControl(dir, 'memory.max', v2Bytes(limit, 'limit'));
  if (m.reservation) await writeControl(dir, 'memory.low', v2Bytes(m.reservation, 'reservation'));
  if (m.disableOOMKiller)
    ctx.warn({
      code: 'SETTING_IGNORED',
      field: `${F}.disableOOMKiller`,
      message: 'cgroup v2 has no switch to disable the OOM killer',
    });
  if (m.swappiness !== undefined && m.swappiness !== null)
    ctx.warn({
      code: 'SETTING_IGNORED',
      field: `${F}.swappiness`,
      message: 'cgroup v2 has no per-cgroup swappiness',
    });
  if (m.kernel !== undefined || m.kernelTCP !== undefined)
    ctx.warn({
      code: 'SETTING_IGNORED',
      field: `${F}.kernel`,
      message: 'kernel memory limits do not exist on cgroup v2',
    });
}

/** memory.current, memory.max, memory.peak and memory.stat. */
export async function stats(dir: string): Promise<CgroupStats['memory']> {
  const limit = parseCounter(await readControl(dir, 'memory.max'), 'memory.max');
  const peak = await readOptional(dir, 'memory.peak');
  return {
    usage: parseCount(await readControl(dir, 'memory.current'), 'memory.current'),
    ...(limit !== undefined ? { limit } : {}),
    ...(peak !== undefined ? { maxUsage: parseCount(peak, 'memory.peak') } : {}),
    stat: parseFlatKeyed(await readControl(dir, 'memory.stat'), 'memory.stat'),
  };
}

/** `oom_kill` and `oom` from memory.events. */
export async function oomEvents(dir: string): Promise<OomEvents> {
  const kv = parseFlatKeyed(await readControl(dir, 'memory.events'), 'memory.events');
  return { oomKill: kv.oom_kill ?? 0, oom: kv.oom ?? 0 };
}
