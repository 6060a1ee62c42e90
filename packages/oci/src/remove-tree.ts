/**
 * Removing a directory tree berth made: a container's writable layer (the snapshotter), its
 * record directory (the engine), its berth-shim state directory (the runtime). Such a tree is
 * mostly a handful of entries, and both `fs.rmSync` (Node's JavaScript rimraf: an lstat per
 * entry, an rmdir tried before each listing, an exception with a stack for each refusal; ~1 ms
 * for a record directory, ~2 ms the first time in a process) and every step of
 * `fs.promises.rm` (a thread-pool round trip each) cost more than the work. So the first
 * entries are removed synchronously, by a walk that uses the listing's file types (no lstat
 * per entry, no rmdir tried before the listing); past a budget, or on any error (a racing
 * writer's new file: ENOTEMPTY), `fs.promises.rm` with its retries takes over, so a large tree
 * does not hold the event loop and every error is its to report. A budget of 0 sends the whole
 * tree to `fs.promises.rm`: beside other removals under way (an `rm -f` of many containers),
 * where their unlinks and rmdirs, which can wait for the disk (ext4 `discard` trims freed
 * blocks synchronously), overlap on the thread pool instead of queueing on the main thread.
 * There, a caller's {@link FsCalls.removeTree} (`@berth/runtime`'s: the whole walk in one
 * thread-pool job of its addon) goes first: `fs.promises.rm` makes ~20 pool round trips for a
 * container's directory, each a few tens of µs of the event loop's CPU.
 * Hand-written: no library does the synchronous first part.
 */
import { type Dirent, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FsCalls } from './fs-calls.js';

/** Entries removed synchronously before the rest goes to `fs.promises.rm`. */
export const REMOVE_TREE_SYNC_BUDGET = 256;

/**
 * Removes `dir` and everything below it, never following a symlink; a missing `dir` is not an
 * error. Entries beyond `budget` (and anything the walk could not remove) are removed by
 * `calls.removeTree` when given, else (or where it stops short) by `fs.promises.rm` with its
 * retries.
 */
export async function removeTree(
  dir: string,
  budget = REMOVE_TREE_SYNC_BUDGET,
  calls?: Pick<FsCalls, 'removeTree'>,
  options: { last?: string } = {},
): Promise<void> {
  const left = { n: budget };
  const { last } = options;
  try {
    if (budget > 0 && walk(dir, left, last)) return;
  } catch {
    // fs.promises.rm below reports what is wrong, or removes what a racing writer added
  }
  if (
    calls?.removeTree &&
    (await calls.removeTree(dir, last === undefined ? {} : { last }).catch(() => false))
  )
    return;
  if (last !== undefined) {
    // the others first, `last` when they are gone
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    }
    for (const n of names)
      if (n !== last) await rm(join(dir, n), { recursive: true, force: true, maxRetries: 3 });
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Removes `dir`'s tree (`last`, an entry of `dir`, after the others); false when the budget ran
 * out first (what is left stays).
 */
function walk(dir: string, left: { n: number }, last?: string): boolean {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  for (const e of entries) {
    if (e.name === last) continue;
    if (--left.n < 0) return false;
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!walk(path, left)) return false;
      continue;
    }
    try {
      // a symlink, whiteout (0:0 device), file or socket: unlink(2) never follows it
      unlinkSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      // a directory the listing did not type (DT_UNKNOWN)
      if (code !== 'EISDIR' && code !== 'EPERM') throw err;
      if (!walk(path, left)) return false;
    }
  }
  try {
    if (last !== undefined) unlinkSync(join(dir, last));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  return true;
}
