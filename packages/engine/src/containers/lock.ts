/**
 * Per-object cross-process locks held by a `flock(1)` helper, as `@berth/store` does for its
 * index (see its lock.ts for why flock(2) and not a lock-file library: the kernel drops the
 * lock the instant its holder dies, so a `kill -9` never leaves a stale lock). Inside one
 * process, contenders queue on a promise chain first.
 */
import { spawn } from 'node:child_process';
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

function spawnFlock(path: string, signal?: AbortSignal): Promise<HeldLock> {
  return new Promise<HeldLock>((resolve, reject) => {
    // -o: the lock is not passed on to the helper command (cat)
    const child = spawn('flock', ['-x', '-o', path, 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let held = false;
    let exited = false;
    const closed = new Promise<void>((r) => child.once('close', () => r()));
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
      reject(failed(path, `cannot run flock(1): ${err.message}`, err));
    });
    child.once('close', (code) => {
      exited = true;
      if (held) return;
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else reject(failed(path, `flock(1) exited with ${code}: ${stderr.trim()}`));
    });
    child.stdout.once('data', () => {
      held = true;
      signal?.removeEventListener('abort', onAbort);
      resolve({
        async release() {
          if (!exited) {
            child.stdin.end();
            await closed;
          }
        },
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.write('\n');
  });
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
    const lock = await spawnFlock(path, opts.signal);
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
