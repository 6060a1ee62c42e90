import { lstatSync, readdirSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import type { Usage } from './metadata.js';

/**
 * Disk use of a directory tree, as `du` counts it: `st_blocks * 512` and distinct inodes
 * (a hardlinked file once). Symlinks are not followed.
 */
export async function treeUsage(root: string, signal?: AbortSignal): Promise<Usage> {
  const seen = new Set<string>();
  let size = 0;
  const visit = async (path: string): Promise<void> => {
    signal?.throwIfAborted();
    const st = await lstat(path, { bigint: false });
    const id = `${st.dev}:${st.ino}`;
    if (!seen.has(id)) {
      seen.add(id);
      size += st.blocks * 512;
    }
    if (st.isDirectory()) {
      for (const name of await readdir(path)) await visit(`${path}/${name}`);
    }
  };
  await visit(root);
  return { size, inodes: seen.size };
}

/**
 * {@link treeUsage} with synchronous calls, for an apply worker thread (nothing else runs on
 * it): each async `lstat` is a round trip through libuv's threadpool, which the workers share
 * with their gunzip; walking a layer of 7,000 files that way took seconds on a loaded machine,
 * the synchronous walk tens of milliseconds.
 */
export function treeUsageSync(root: string, signal?: AbortSignal): Usage {
  const seen = new Set<string>();
  let size = 0;
  const visit = (path: string): void => {
    const st = lstatSync(path, { bigint: false });
    const id = `${st.dev}:${st.ino}`;
    if (!seen.has(id)) {
      seen.add(id);
      size += st.blocks * 512;
    }
    if (st.isDirectory()) {
      signal?.throwIfAborted();
      for (const name of readdirSync(path)) visit(`${path}/${name}`);
    }
  };
  visit(root);
  return { size, inodes: seen.size };
}
