/**
 * The file system calls a layer unpack makes that Node has no binding for: syncfs(2) before
 * snapshots are committed, mknod(2) for overlay whiteouts, device nodes and fifos, and the
 * ext2/3/4 inode flag of `chattr +T`. Declared here, types only: `@berth/overlay` takes an
 * {@link FsCalls} in its options and its default runs coreutils (`sync -f`, `mknod`, `mkfifo`,
 * `chattr`), one process each; `@berth/engine` injects `@berth/runtime`'s, one system call each
 * through its addon (a fork of a process of a few hundred MB costs 5-25 ms, and blocks the
 * thread that spawns it).
 *
 * @example
 * ```ts
 * await calls.mknod('/var/lib/berth/snapshots/snapshots/7/fs/.wh-base', 'c', 0, 0, 0);
 * await calls.syncfs('/var/lib/berth/snapshots');
 * ```
 */
export interface FsCalls {
  /**
   * syncfs(2) of the file system holding `path`: every dirty page and inode of it reaches the disk.
   * @throws BerthError naming the path and the reason
   */
  syncfs(path: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Creates a character device (`c`), block device (`b`) or fifo (`p`) at `path` (its parent
   * exists and is the caller's to trust; the last component is not followed: an existing entry
   * fails with EEXIST), owned by the caller, with permission bits `mode & 0o777` less the umask.
   * @throws BerthError naming the path and the reason
   */
  mknod(path: string, kind: 'c' | 'b' | 'p', mode: number, major: number, minor: number): Promise<void>;
  /**
   * Marks the directory `path` as the top of directory hierarchies for ext2/3/4's Orlov block
   * allocator (FS_TOPDIR_FL, `chattr +T`): its subdirectories are spread over block groups.
   * @throws BerthError naming the path where the file system has no such flag (tmpfs, overlay)
   */
  setTopDir(path: string): Promise<void>;
  /**
   * Removes the directory tree `dir` in one job off the event loop (never following a symlink,
   * never descending into another file system); true when the tree is gone (a missing `dir`
   * too), false when it stopped short (an error, an entry a racing writer added, a mount
   * inside): {@link removeTree} then removes what is left with `fs.promises.rm`, which reports
   * what is wrong. Optional: without it, `fs.promises.rm` does all of it. `last`: a name in
   * `dir` removed after everything else (a record whose presence says the object still exists).
   */
  removeTree?(dir: string, options?: { last?: string }): Promise<boolean>;
}
