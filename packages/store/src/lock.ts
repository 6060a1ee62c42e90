/**
 * A cross-process exclusive lock on a file, held by a small `flock(1)` helper process.
 *
 * Why flock(1) and not a lock-file library such as proper-lockfile: a flock(2) lock belongs to
 * an open file, so the kernel drops it the instant its holder dies. A `kill -9` therefore never
 * leaves a stale lock behind, and nobody has to guess from an mtime whether a holder is still
 * alive (proper-lockfile's staleness check waits at least seconds after a crash and can break
 * the lock of a live holder that was paused). Node has no flock binding without a native addon,
 * and util-linux's `flock` is on every Linux system berth runs on. The helper is `flock -x FILE
 * cat`: `cat` starts only once the lock is held, echoes one byte to prove it, and exits (dropping
 * the lock) when its stdin closes — which the kernel also does when this process dies.
 *
 * Inside one process, contenders queue on a promise chain first, so only one helper per lock
 * file runs at a time.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '@berth/oci';
import { StoreErrorCode } from './errors.js';

/** A held lock; `release()` drops it (idempotent). */
export interface FileLock {
  /** Drops the lock. */
  release(): Promise<void>;
}

const queues = new Map<string, Promise<void>>();

function lockFailed(path: string, why: string, cause?: unknown): BerthError<'STORE_LOCK_FAILED'> {
  return new BerthError(StoreErrorCode.STORE_LOCK_FAILED, `lock ${path}: ${why}`, {
    input: { field: path },
    ...(cause === undefined ? {} : { cause }),
  });
}

function spawnFlock(path: string, signal?: AbortSignal): Promise<FileLock> {
  return new Promise<FileLock>((resolve, reject) => {
    const child = spawn('flock', ['-x', path, 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let held = false;
    let exited = false;
    const exitedPromise = new Promise<void>((r) => child.once('close', () => r()));
    const onAbort = (): void => {
      if (!held) child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(lockFailed(path, `cannot run flock(1): ${err.message}`, err));
    });
    child.once('close', (code) => {
      exited = true;
      if (held) return;
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else reject(lockFailed(path, `flock(1) exited with ${code}: ${stderr.trim()}`));
    });
    child.stdout.once('data', () => {
      held = true;
      signal?.removeEventListener('abort', onAbort);
      resolve({
        async release() {
          if (!exited) {
            child.stdin.end();
            await exitedPromise;
          }
        },
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.write('\n');
  });
}

/**
 * Takes an exclusive lock on `path` (created if missing) across processes and within this one.
 * Throws `STORE_LOCK_FAILED` when flock(1) cannot run, or the signal's reason when aborted while
 * waiting.
 */
export async function lockFile(path: string, opts: { signal?: AbortSignal } = {}): Promise<FileLock> {
  opts.signal?.throwIfAborted();
  const previous = queues.get(path) ?? Promise.resolve();
  let releaseQueue!: () => void;
  const mine = new Promise<void>((r) => {
    releaseQueue = r;
  });
  const tail = previous.then(() => mine);
  queues.set(path, tail);
  const cleanupQueue = (): void => {
    releaseQueue();
    if (queues.get(path) === tail) queues.delete(path);
  };
  try {
    await previous;
    opts.signal?.throwIfAborted();
    const lock = await spawnFlock(path, opts.signal);
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        try {
          await lock.release();
        } finally {
          cleanupQueue();
        }
      },
    };
  } catch (err) {
    cleanupQueue();
    throw err;
  }
}

/** Runs `fn` while holding the lock on `path`, and releases it however `fn` ends. */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { signal?: AbortSignal } = {},
): Promise<T> {
  const lock = await lockFile(path, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
