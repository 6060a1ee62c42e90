/**
 * Cross-process exclusive locks: flock(2) on an open file description this process keeps. The
 * kernel drops the lock the instant the holder dies, so a `kill -9` never leaves a stale lock
 * and nobody guesses from an mtime whether a holder is alive (why not a lock-file library such
 * as proper-lockfile, whose staleness check waits seconds after a crash and can break the lock
 * of a live holder that was paused). A free lock costs one non-blocking flock(2); a taken one
 * waits in a blocking flock(2) on the libuv thread pool. Inside one process, contenders queue
 * on a promise chain first, so at most one thread per lock file waits.
 */
import { close, closeSync, constants, existsSync, openSync } from 'node:fs';
import {
  BerthError,
  type FileLock,
  type FileLocker,
  type FileLockOptions,
  lockQueue,
  withFileLock,
} from '@berth/oci';
import { errnoText, loadAddon, untilAborted } from './addon.js';
import { SysErrorCode } from './errors.js';

// <sys/file.h>
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

export type { FileLock } from '@berth/oci';

/** Contenders in this process queue here first, so at most one thread per lock file waits. */
const inProcess = lockQueue();

function failed(path: string, errno: number): BerthError {
  return new BerthError(SysErrorCode.LOCK_FAILED, `lock ${path}: flock: ${errnoText(errno)}`, {
    input: { field: path },
  });
}

/**
 * Opens `path` and flocks it; resolves with the descriptor, whose close(2) releases the lock.
 * The open and close are synchronous system calls (a promise FileHandle's are two thread-pool
 * round trips per lock, and a `berth run` takes several locks).
 */
async function flockPath(path: string, signal?: AbortSignal, op = LOCK_EX, dir = false): Promise<number> {
  const sys = loadAddon();
  // a directory: opened read-only (flock(2) works on any open file), never created
  const fd = dir ? openSync(path, constants.O_RDONLY | constants.O_DIRECTORY) : openSync(path, 'a', 0o600);
  let e = sys.flock(fd, op | LOCK_NB);
  if (e === EWOULDBLOCK) {
    // another process holds it: wait on a pool thread. On abort the handle is closed at once;
    // the waiting flock(2) still holds the open file, which it drops (with any lock it got)
    // when it returns
    try {
      e = await untilAborted(sys.flockAsync(fd, op), signal);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }
  if (e !== 0) {
    closeSync(fd);
    throw failed(path, e);
  }
  return fd;
}

/**
 * A lock held through the open descriptor `fd`: releasing closes it, once. `dir`: the locked
 * directory; removed while held (a container's, by its removal), its last close frees the inode
 * and its block, which on a file system mounted with `discard` waits for the disk (~1 ms: 50 ms
 * of an `rm -f` of 50 on the event loop), so that close goes to the thread pool.
 */
function heldLock(fd: number, dir?: string): FileLock {
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      if (dir !== undefined && !existsSync(dir)) {
        await new Promise<void>((done) => close(fd, () => done()));
        return;
      }
      closeSync(fd);
    },
  };
}

/**
 * Takes an exclusive lock on `path` (created when missing, mode 0600; its directory must exist)
 * across processes and within this one.
 * @throws the open error (`ENOENT` when the directory is gone), BerthError LOCK_FAILED,
 *   SYS_ADDON_NOT_FOUND, or the signal's reason when aborted while waiting
 */
export function lockFile(path: string, opts: { signal?: AbortSignal } = {}): Promise<FileLock> {
  return inProcess(path, opts.signal, async () => {
    return heldLock(await flockPath(path, opts.signal));
  });
}

/**
 * Takes an exclusive lock on the directory `path` itself (flock(2) on a read-only descriptor of
 * it), across processes and within this one: for an object that has a directory of its own, no
 * lock file to create (one inode less per object, and on an ext4 without a journal each create
 * can cost far more than the lock). The directory is not created; a {@link lockFile} holder of a
 * path inside it does not exclude a `lockDir` holder, or the reverse.
 * @throws the open error (`ENOENT` when the directory is gone, `ENOTDIR`), BerthError
 *   LOCK_FAILED, SYS_ADDON_NOT_FOUND, or the signal's reason when aborted while waiting
 */
export function lockDir(path: string, opts: { signal?: AbortSignal } = {}): Promise<FileLock> {
  return inProcess(path, opts.signal, async () => {
    return heldLock(await flockPath(path, opts.signal, LOCK_EX, true), path);
  });
}

/**
 * Takes a shared flock(2) on `path` (created when missing): any number of shared holders, in
 * any processes, exclude every {@link lockFile} holder. Not queued in-process: the caller keeps
 * at most one waiter per process (each waiter holds a libuv pool thread), e.g. by sharing one
 * held lock between its own readers.
 * @throws as {@link lockFile}
 */
export async function lockFileShared(path: string, opts: { signal?: AbortSignal } = {}): Promise<FileLock> {
  opts.signal?.throwIfAborted();
  return heldLock(await flockPath(path, opts.signal, LOCK_SH));
}

/** Runs `fn` while holding the lock on `path`, and releases it however `fn` ends. */
export function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { signal?: AbortSignal } = {},
): Promise<T> {
  return withFileLock(flockLocker, path, fn, opts);
}

/**
 * {@link lockFile} and {@link lockFileShared} as `@berth/oci`'s `FileLocker`: what
 * `@berth/engine` passes to the store and the snapshotter in place of their pure-JS default.
 */
export const flockLocker: FileLocker = {
  lock(path: string, opts: FileLockOptions = {}): Promise<FileLock> {
    const o = opts.signal === undefined ? {} : { signal: opts.signal };
    return opts.shared ? lockFileShared(path, o) : lockFile(path, o);
  },
};
