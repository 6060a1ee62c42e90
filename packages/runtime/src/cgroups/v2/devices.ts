/**
 * cgroup v2 device rules. v2 has no devices.allow: the rules are compiled to a
 * BPF_PROG_TYPE_CGROUP_DEVICE program (device-filter.ts) that is attached to the cgroup, as runc
 * and crun do. The driver's loader attaches it (berth-shim `--device-filter`); a driver without
 * one (a fixture tree) validates the rules and reports them as not enforced.
 */
import type { LinuxResources } from '@berth/oci';
import type { ApplyContext } from '../types.js';
import { compileDeviceFilter } from './device-filter.js';

/** Compiles `resources.devices` and attaches the program to `dir`. */
export async function apply(resources: LinuxResources, dir: string, ctx: ApplyContext): Promise<void> {
  const rules = resources.devices ?? [];
  const program = compileDeviceFilter(rules);
  if (!program) return;
  if (ctx.loadDeviceProgram) {
    await ctx.loadDeviceProgram(dir, program);
    return;
  }
  ctx.warn({
    code: 'DEVICES_NOT_ENFORCED',
    field: 'linux.resources.devices',
    message: `cgroup v2: ${rules.length} device rules not enforced (the driver has no device program loader)`,
  });
}
