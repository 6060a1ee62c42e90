/** Removing a cgroup directory tree: children first, retrying while exiting tasks drain. */
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '@berth/oci';
import { loadAddon } from '../sys/addon.js';

/** rmdir attempts before giving up on a busy cgroup (back-off 2..20 ms, about 2 s in all). */
const MAX_ATTEMPTS = 100;

function subdirs(dir: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
}

/**
 * rmdir `dir` after its sub-cgroups; ENOENT counts as removed. Synchronous, as the control files
 * are (files.ts): cgroupfs touches no disk, and a v1 host removes one directory per hierarchy.
 * The rmdir comes first: a container's cgroup rarely has sub-cgroups, and cgroupfs refuses to
 * remove one that has (EBUSY, as for tasks), so only then are the children listed and removed.
 * A listing first cost five system calls per directory, ten directories per container on v1.
 */
function removeTree(dir: string): void {
  try {
    rmdirSync(dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw err;
  }
  let children: string[];
  try {
    children = subdirs(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const c of children) removeTree(c);
  try {
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * The pids in `dir`'s cgroup.procs and in those of its sub-cgroups (a task placed in a
 * sub-cgroup keeps the cgroup busy as much as one in the cgroup itself). Missing directories
 * and files count as empty.
 */
export function subtreePids(dir: string): number[] {
  const out: number[] = [];
  let text = '';
  try {
    text = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return out;
  }
  for (const l of text.split('\n')) if (/^\d+$/.test(l)) out.push(Number(l));
  let children: string[] = [];
  try {
    children = subdirs(dir);
  } catch {
    // gone meanwhile
  }
  for (const c of children) out.push(...subtreePids(c));
  return out;
}

/**
 * One rmdir of each directory, all in one thread-pool job of the addon (a v1 container's cgroup
 * is a directory in each of ~10 hierarchies: 10 promise round trips each, 500 for an `rm -f` of
 * 50); true when every one is gone. False when one is busy (tasks or sub-cgroups left) or the
 * addon cannot: the caller then removes them one by one, the way that handles those.
 */
export async function rmdirsOnPool(dirs: readonly string[]): Promise<boolean> {
  if (dirs.length === 0) return true;
  let sys: ReturnType<typeof loadAddon>;
  try {
    sys = loadAddon();
  } catch {
    return false;
  }
  if (typeof sys.rmdirsAsync !== 'function') return false;
  return (await sys.rmdirsAsync([...dirs]).catch(() => -1)) === 0;
}

/**
 * Removes the cgroup directory `dir` with its sub-cgroups. EBUSY (tasks still exiting) is
 * retried; before each retry `beforeRetry` runs (the force path kills what is left there).
 * `pool`: the first rmdir is made on the thread pool (one of many removals under way).
 *
 * @throws BerthError CGROUP_BUSY naming the directory, with the last errno as cause
 */
export async function removeCgroupDir(
  dir: string,
  opts: { beforeRetry?: () => Promise<void>; pool?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  if (opts.pool) {
    // the common case (no tasks, no sub-cgroups) in one rmdir on the thread pool; anything else
    // goes the synchronous way below
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw err;
    }
  }
  let last: unknown;
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    opts.signal?.throwIfAborted();
    try {
      removeTree(dir);
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
