/**
 * Per-object cross-process locks: flock(2) on an open file description, taken by one
 * `flock -x 3` helper that inherits the descriptor and exits once the lock is held. A flock lock
 * belongs to the open file description, which this process keeps, so the lock stays held after
 * the helper exits, is dropped by closing the descriptor, and is dropped by the kernel the
 * instant this process dies: a `kill -9` never leaves a stale lock (see @berth/store's lock.ts for
 * why not a lock-file library). Node has no flock binding without a native addon; util-linux's
 * `flock` is on every Linux berth runs on. One short exec per lock, no resident helper. Inside
 * one process, contenders queue on a promise chain first.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { BerthError } from '@berth/oci';
import { ContainerErrorCode } from './errors.js';

/** A held lock; `release()` drops it (idempotent). */
export interface HeldLock {
  /** Drops the lock. */
  release(): Promise<void>;
}

const queues = new Map<string, Promise<void>>();

function failed(path: string, why: string, cause?: unknown): BerthError {
  return new BerthError(ContainerErrorCode.CONTAINER_LOCK_FAILED, `lock ${path}: ${why}`, {
    input: { field: path },
    ...(cause === undefined ? {} : { cause }),
  });
}

async function flockFd(path: string, signal?: AbortSignal): Promise<HeldLock> {
  const fh = await open(path, 'a', 0o600);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('flock', ['-x', '3'], { stdio: ['ignore', 'ignore', 'pipe', fh.fd] });
      let stderr = '';
      const onAbort = (): void => {
        child.kill('SIGKILL');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (d: string) => {
        if (stderr.length < 4096) stderr += d;
      });
      child.on('error', (err) => reject(failed(path, `cannot run flock(1): ${err.message}`, err)));
      child.once('close', (code) => {
        signal?.removeEventListener('abort', onAbort);
        if (code === 0) resolve();
        else if (signal?.aborted) reject(signal.reason);
        else reject(failed(path, `flock(1) exited with ${code}: ${stderr.trim()}`));
      });
    });
  } catch (err) {
    await fh.close();
    throw err;
  }
  let closed = false;
  return {
    async release() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}

/**
 * Takes an exclusive lock on `path` (created when missing; its directory must exist) across
 * processes and within this one.
 * @throws BerthError CONTAINER_LOCK_FAILED, or the signal's reason when aborted while waiting
 */
export async function lockFile(path: string, opts: { signal?: AbortSignal } = {}): Promise<HeldLock> {
  opts.signal?.throwIfAborted();
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
    await previous;
    opts.signal?.throwIfAborted();
    const lock = await flockFd(path, opts.signal);
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        try {
          await lock.release();
        } finally {
          done();
        }
      },
    };
  } catch (err) {
    done();
    throw err;
  }
}
