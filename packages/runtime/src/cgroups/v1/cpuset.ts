/**
 * cgroup v1 cpuset controller. A new v1 cpuset cgroup starts with empty cpuset.cpus and
 * cpuset.mems, and a task cannot join it (ENOSPC) until both are set: every directory on the
 * way down inherits its parent's values before the container's own are written (runc
 * `ensureParent`/`copyIfNeeded`).
 */
import { join, relative, sep } from 'node:path';
import type { LinuxResources } from '@berth/oci';
import { readControl, writeControl } from '../files.js';
import type { ApplyContext } from '../types.js';

/**
 * Fills empty cpuset.cpus/cpuset.mems from the parent, from the hierarchy root `root` down to
 * `dir` (which must be inside it).
 */
export async function inheritParents(root: string, dir: string): Promise<void> {
  const rel = relative(root, dir);
  if (rel === '' || rel.startsWith('..')) return;
  let parent = root;
  for (const part of rel.split(sep)) {
    const child = join(parent, part);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if ((await readControl(child, file)).trim() !== '') continue;
      await writeControl(child, file, (await readControl(parent, file)).trim());
    }
    parent = child;
  }
}

/** Applies `resources.cpu.cpus` / `.mems` to the cpuset cgroup at `dir`. */
export async function apply(resources: LinuxResources, dir: string, _ctx: ApplyContext): Promise<void> {
  const c = resources.cpu;
  if (c?.cpus) await writeControl(dir, 'cpuset.cpus', c.cpus);
  if (c?.mems) await writeControl(dir, 'cpuset.mems', c.mems);
}
