/**
 * The snapshotter's default {@link FileLocker} for its metadata, for users of `@berth/overlay`
 * alone: proper-lockfile, a pure-JS lock (an atomic mkdir of `<path>.lock`, its mtime refreshed
 * while held), so the package needs no native addon and starts no process. `@berth/engine`
 * injects `@berth/sys`'s flock(2) locker instead, which the kernel drops the instant its holder
 * dies. The same code as `@berth/store`'s default: siblings share nothing but `@berth/oci`,
 * which does no I/O.
 *
 * What the default costs: a holder killed with `kill -9` leaves its lock directory behind, and
 * the next taker waits until it is stale ({@link STALE_MS} without a refresh) before breaking
 * it. A shared lock is taken as an exclusive one. Every process that uses one store directory
 * must use the same kind of locker: a lock directory and a flock(2) do not see each other.
 *
 * Contenders inside one process queue on a promise chain (in order, without polling); only the
 * head of the queue polls the lock directory, with a capped backoff, until it is free.
 *
 * proper-lockfile is loaded on first use: at load it hooks process signals (signal-exit) and
 * pulls in graceful-fs, which a process that injects another locker (the `berth` CLI) never needs.
 */
import { BerthError, type FileLock, type FileLocker, type FileLockOptions } from '@berth/oci';
import { OverlayErrorCode } from './errors.js';

/** A lock directory not refreshed for this long is a dead holder's, and is broken. */
export const STALE_MS = 10_000;
const FIRST_WAIT_MS = 5;
const MAX_WAIT_MS = 50;

const queues = new Map<string, Promise<void>>();

function lockFailed(path: string, why: string, cause?: unknown): BerthError<'LOCK_FAILED'> {
  return new BerthError(OverlayErrorCode.LOCK_FAILED, `lock ${path}: ${why}`, {
    input: { field: path },
    ...(cause === undefined ? {} : { cause }),
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits for `previous`; an abort leaves the in-process queue at once (those behind still wait). */
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

/** Takes the lock directory of `path`, polling while another holder has it. */
async function acquire(path: string, signal: AbortSignal | undefined, onLost: (err: Error) => void) {
  const lockfile = (await import('proper-lockfile')).default;
  for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, MAX_WAIT_MS)) {
    signal?.throwIfAborted();
    try {
      return await lockfile.lock(path, { realpath: false, stale: STALE_MS, onCompromised: onLost });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw err; // the directory is gone (FileLocker's contract)
      if (code !== 'ELOCKED') throw lockFailed(path, (err as Error).message, err);
    }
    await sleep(wait + Math.floor(Math.random() * wait), signal);
  }
}

async function lock(path: string, opts: FileLockOptions = {}): Promise<FileLock> {
  const { signal } = opts;
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
    let lost: Error | undefined;
    const unlock = await acquire(path, signal, (err) => {
      lost = err;
    });
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        try {
          if (lost) throw lockFailed(path, `taken over while held (${lost.message})`, lost);
          await unlock();
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

/** The default locker of the snapshotter's metadata (see the module doc). */
export const lockfileLocker: FileLocker = { lock };

/** Runs `fn` holding `locker`'s exclusive lock on `path`, and releases it however `fn` ends. */
export async function withLock<T>(
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
