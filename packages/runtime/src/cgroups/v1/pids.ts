/** cgroup v1 pids controller (the file names are the same on v2). */
import type { LinuxResources } from '@berth/oci';
import { BerthError } from '@berth/oci';
import { parseCount, parseCounter, readControl, writeControl } from '../files.js';
import type { ApplyContext, CgroupStats } from '../types.js';

/** The pids.max value for a spec limit: a positive count, `max` for -1 or below, none for 0. */
export function pidsMax(limit: number | undefined): string | undefined {
  if (limit === undefined || limit === null || limit === 0) return undefined;
  if (!Number.isSafeInteger(limit))
    throw new BerthError(
      'CGROUP_RESOURCE_INVALID',
      `linux.resources.pids.limit: ${limit} is not an integer`,
      {
        input: { field: 'linux.resources.pids.limit' },
      },
    );
  return limit < 0 ? 'max' : String(limit);
}

/** Applies `resources.pids.limit` to pids.max (runc: 0 leaves it, negative means max). */
export async function apply(resources: LinuxResources, dir: string, _ctx: ApplyContext): Promise<void> {
  const v = pidsMax(resources.pids?.limit);
  if (v !== undefined) await writeControl(dir, 'pids.max', v);
}

/** pids.current and pids.max. */
export async function stats(dir: string): Promise<CgroupStats['pids']> {
  const limit = parseCounter(await readControl(dir, 'pids.max'), 'pids.max');
  return {
    current: parseCount(await readControl(dir, 'pids.current'), 'pids.current'),
    ...(limit !== undefined ? { limit } : {}),
  };
}
