/** cgroup v2 cpuset controller: an empty cpuset.cpus/mems inherits the parent's effective set. */
import type { LinuxResources } from '@berth/oci';
import { writeControl } from '../files.js';
import type { ApplyContext } from '../types.js';

/** Applies `resources.cpu.cpus` / `.mems`. */
export async function apply(resources: LinuxResources, dir: string, _ctx: ApplyContext): Promise<void> {
  if (resources.cpu?.cpus) await writeControl(dir, 'cpuset.cpus', resources.cpu.cpus);
  if (resources.cpu?.mems) await writeControl(dir, 'cpuset.mems', resources.cpu.mems);
}
