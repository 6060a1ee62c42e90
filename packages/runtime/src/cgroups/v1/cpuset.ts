/**
 * cgroup v1 cpuset controller. A new v1 cpuset cgroup starts with empty cpuset.cpus and
 * cpuset.mems, and a task cannot join it (ENOSPC) until both are set: every directory on the
 * way down inherits its parent's values before the container's own are written (runc
 * `ensureParent`/`copyIfNeeded`).
 */
import type { LinuxResources } from '@berth/oci';
import { cgroupDir, readControl, writeControl } from '../files.js';
import { DEFAULT_CGROUP_PARENT } from '../path.js';
import type { ApplyContext } from '../types.js';

const FILES = ['cpuset.cpus', 'cpuset.mems'] as const;

/**
 * Fills empty cpuset.cpus/cpuset.mems from the parent, from the hierarchy root `root` down to
 * cgroup `path` (checked by validateCgroupPath). A cgroup the kernel filled at mkdir costs two
 * reads: once a container's cgroup had to be filled, its parent, when it is berth's own
 * `/berth`, gets cgroup.clone_children=1 (as lxc sets it), and the kernel copies the parent's
 * values into every later child itself. Other parents (a `--cgroup-parent`) are left as found.
 */
export async function inheritParents(root: string, path: string): Promise<void> {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return;
  const leaf = cgroupDir(root, path);
  let set = true;
  for (const file of FILES) if ((await readControl(leaf, file)).trim() === '') set = false;
  if (set) return;
  let parent = cgroupDir(root, '');
  for (const part of parts) {
    const child = `${parent}/${part}`;
    for (const file of FILES) {
      if ((await readControl(child, file)).trim() !== '') continue;
      await writeControl(child, file, (await readControl(parent, file)).trim());
    }
    if (child !== leaf) parent = child;
  }
  if (`/${parts.slice(0, -1).join('/')}` === DEFAULT_CGROUP_PARENT)
    await writeControl(parent, 'cgroup.clone_children', '1').catch(() => {
      // an old kernel or a fixture tree without the file: each container is filled as above
    });
}

/** Applies `resources.cpu.cpus` / `.mems` to the cpuset cgroup at `dir`. */
export async function apply(resources: LinuxResources, dir: string, _ctx: ApplyContext): Promise<void> {
  const c = resources.cpu;
  if (c?.cpus) await writeControl(dir, 'cpuset.cpus', c.cpus);
  if (c?.mems) await writeControl(dir, 'cpuset.mems', c.mems);
}
