/**
 * The cross-process file lock a package takes around a change spanning several files (DESIGN.md,
 * state on disk). Declared here, types only: `@berth/store` and `@berth/overlay` take a
 * {@link FileLocker} in their options and ship a pure-JS default; `@berth/engine` injects
 * `@berth/sys`'s flock(2) locker, which the kernel drops the instant its holder dies.
 *
 * All processes that share a directory must use the same kind of locker on it: a flock(2) lock
 * and a lock-file library's lock do not see each other.
 *
 * @example
 * ```ts
 * const held = await locker.lock('/var/lib/berth/images/lock', { signal });
 * try {
 *   // read, change, write temp, fsync, rename
 * } finally {
 *   await held.release();
 * }
 * ```
 */

/** A held lock. */
export interface FileLock {
  /** Drops the lock. Idempotent. */
  release(): Promise<void>;
}

/** Options of {@link FileLocker.lock}. */
export interface FileLockOptions {
  /**
   * A shared lock: any number of shared holders, in any processes, exclude every exclusive
   * holder. A locker may take an exclusive lock instead (stricter, never wrong). The caller keeps
   * at most one shared lock per path in a process (share one held lock between its own readers).
   */
  shared?: boolean;
  /** Aborts the wait; the lock is then not held and the promise rejects with the reason. */
  signal?: AbortSignal;
}

/**
 * Takes cross-process locks named by a path. An exclusive lock excludes every other holder of
 * the path, in other processes and in this one (contenders in one process queue in order).
 * The path's directory must exist; what the locker creates beside it is its own business.
 */
export interface FileLocker {
  /**
   * Waits until the lock on `path` is held.
   * @throws BerthError `LOCK_FAILED` naming the path when the lock cannot be taken (not when it
   *   is merely busy: that waits), the file system's error (`ENOENT` when the directory is
   *   gone), or the signal's reason
   */
  lock(path: string, opts?: FileLockOptions): Promise<FileLock>;
}
