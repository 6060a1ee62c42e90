/**
 * The cross-process file lock a package takes around a change spanning several files (DESIGN.md,
 * state on disk). Declared here: `@berth/store` and `@berth/overlay` take a {@link FileLocker} in
 * their options and ship a pure-JS default ({@link pollingLocker}, given proper-lockfile);
 * `@berth/engine` injects `@berth/runtime`'s flock(2) locker, which the kernel drops the instant its
 * holder dies. The helpers below do no I/O themselves (the lock implementations bring it), so the
 * three lockers share one in-process queue and one `withFileLock`.
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

/**
 * Runs `fn` holding `locker`'s exclusive lock on `path`, and releases it however `fn` ends.
 * @throws what {@link FileLocker.lock} throws, or what `fn` throws
 */
export async function withFileLock<T>(
  locker: FileLocker,
  path: string,
  fn: () => Promise<T>,
  opts: { signal?: AbortSignal } = {},
): Promise<T> {
  const held = await locker.lock(path, opts.signal === undefined ? {} : { signal: opts.signal });
  try {
    return await fn();
  } finally {
    await held.release();
  }
}

/** Waits for `previous`; an abort leaves the queue at once (those behind still wait). */
function queued(previous: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return previous;
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    previous.then(() => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    });
  });
}

/**
 * The in-process half of a {@link FileLocker}: contenders for one path in this process queue on
 * a promise chain, in order and without polling, so at most one of them works on the
 * cross-process lock at a time. `take` gets that lock (its own I/O: flock(2), a lock directory)
 * once the caller is at the head of the queue; the returned lock releases it, then lets the
 * next contender in. Each locker keeps its own queue (one `lockQueue()` per locker).
 *
 * @example
 * ```ts
 * const inProcess = lockQueue();
 * const locker: FileLocker = {
 *   lock: (path, opts = {}) => inProcess(path, opts.signal, () => takeMyLock(path, opts.signal)),
 * };
 * ```
 */
export function lockQueue(): (
  path: string,
  signal: AbortSignal | undefined,
  take: () => Promise<FileLock>,
) => Promise<FileLock> {
  const queues = new Map<string, Promise<void>>();
  return async (path, signal, take) => {
    signal?.throwIfAborted();
    const previous = queues.get(path) ?? Promise.resolve();
    let releaseQueue!: () => void;
    const mine = new Promise<void>((r) => {
      releaseQueue = r;
    });
    const tail = previous.then(() => mine);
    queues.set(path, tail);
    const done = (): void => {
      releaseQueue();
      if (queues.get(path) === tail) queues.delete(path);
    };
    try {
      await queued(previous, signal);
      const held = await take();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          try {
            await held.release();
          } finally {
            done();
          }
        },
      };
    } catch (err) {
      done();
      throw err;
    }
  };
}

/** What {@link pollingLocker} needs of a lock-directory library (proper-lockfile's `lock`). */
export interface LockDirLibrary {
  lock(
    path: string,
    options: { realpath: false; stale: number; onCompromised: (err: Error) => void },
  ): Promise<() => Promise<void>>;
}

/** Options of {@link pollingLocker}. */
export interface PollingLockerOptions {
  /** Loads the library on first use (proper-lockfile hooks process signals when loaded). */
  load(): Promise<LockDirLibrary>;
  /** A lock not refreshed for this long is a dead holder's, and is broken (ms). */
  staleMs: number;
  /** The `LOCK_FAILED` error of the package, naming `path`. */
  failed(path: string, why: string, cause?: unknown): Error;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A pure-JS {@link FileLocker} over a lock-directory library (an atomic mkdir of `<path>.lock`,
 * its mtime refreshed while held): the default of `@berth/store` and `@berth/overlay` for users
 * of either alone, who then need no native addon. The head of the in-process queue polls the
 * lock directory with a capped, jittered backoff (5 to 50 ms) while another process holds it.
 * A shared request is taken as exclusive. A lock found compromised (refreshed by another holder
 * after it was judged stale) fails its release with `failed(...)`. No I/O of its own: the
 * library does it.
 */
export function pollingLocker(options: PollingLockerOptions): FileLocker {
  const inProcess = lockQueue();
  const acquire = async (path: string, signal: AbortSignal | undefined): Promise<FileLock> => {
    const library = await options.load();
    let lost: Error | undefined;
    const onCompromised = (err: Error): void => {
      lost = err;
    };
    for (let wait = 5; ; wait = Math.min(wait * 2, 50)) {
      signal?.throwIfAborted();
      try {
        const unlock = await library.lock(path, { realpath: false, stale: options.staleMs, onCompromised });
        return {
          async release() {
            if (lost) throw options.failed(path, `taken over while held (${lost.message})`, lost);
            await unlock();
          },
        };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'ENOENT') throw err; // the directory is gone (FileLocker's contract)
        if (code !== 'ELOCKED') throw options.failed(path, (err as Error).message, err);
      }
      await sleep(wait + Math.floor(Math.random() * wait), signal);
    }
  };
  return { lock: (path, opts = {}) => inProcess(path, opts.signal, () => acquire(path, opts.signal)) };
}
