/**
 * cgroup v2 device rules. v2 has no devices.allow: the rules are enforced by a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup (crun and runc generate one per
 * container). Node cannot call bpf(2), so that attach has to be done by berth-shim.
 *
 * TODO(#5): compile the rules to an eBPF device program here and have the shim load and attach
 * it (BPF_PROG_LOAD + BPF_PROG_ATTACH with BPF_CGROUP_DEVICE on the cgroup's directory fd).
 * Until then the rules are checked for validity and reported as not enforced.
 */
import type { LinuxResources } from '@berth/oci';
import type { ApplyContext } from '../types.js';
import { deviceRuleLine } from '../v1/devices.js';

/** Validates `resources.devices` and reports them as not enforced on v2. */
export async function apply(resources: LinuxResources, _dir: string, ctx: ApplyContext): Promise<void> {
  const rules = resources.devices ?? [];
  for (const [i, r] of rules.entries()) deviceRuleLine(r, i);
  if (rules.length > 0)
    ctx.warn({
      code: 'DEVICES_NOT_ENFORCED',
      field: 'linux.resources.devices',
      message: `cgroup v2: ${rules.length} device rules not enforced (needs an eBPF device program; not implemented yet)`,
    });
}
