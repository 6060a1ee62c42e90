/**
 * Checks of `linux.resources` that need no kernel, run before a driver creates or writes
 * anything, so bad input leaves no cgroup behind (the controllers check again as they write).
 */
import type { LinuxResources } from '@berth/oci';
import { deviceRuleLine } from './v1/devices.js';
import { pidsMax } from './v1/pids.js';
import { swapOnly } from './v2/memory.js';

/**
 * @throws BerthError CGROUP_RESOURCE_INVALID naming the field
 */
export function precheck(r: LinuxResources): void {
  if (r.memory) swapOnly(r.memory.swap ?? 0, r.memory.limit ?? 0);
  for (const [i, d] of (r.devices ?? []).entries()) deviceRuleLine(d, i);
  pidsMax(r.pids?.limit);
}
