/** Removing a cgroup directory tree: children first, retrying while exiting tasks drain. */
import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '@berth/oci';

/** rmdir attempts before giving up on a busy cgroup (back-off 2..20 ms, about 2 s in all). */
const MAX_ATTEMPTS = 100;

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
}

/** rmdir `dir` after its sub-cgroups; ENOENT counts as removed. */
async function removeTree(dir: string): Promise<void> {
  let children: string[];
  try {
    children = await subdirs(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const c of children) await removeTree(c);
  try {
    await rmdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Removes the cgroup directory `dir` with its sub-cgroups. EBUSY (tasks still exiting) is
 * retried; before each retry `beforeRetry` runs (the force path kills what is left there).
 *
 * @throws BerthError CGROUP_BUSY naming the directory, with the last errno as cause
 */
export async function removeCgroupDir(
  dir: string,
  opts: { beforeRetry?: () => Promise<void>; signal?: AbortSignal } = {},
): Promise<void> {
  let last: unknown;
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    opts.signal?.throwIfAborted();
    try {
      await removeTree(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw err;
      last = err;
    }
    await opts.beforeRetry?.();
    await sleep(Math.min(2 + i, 20), undefined, opts.signal ? { signal: opts.signal } : {});
  }
  throw new BerthError('CGROUP_BUSY', `cgroup ${dir}: still has tasks; not removed`, { cause: last });
}
