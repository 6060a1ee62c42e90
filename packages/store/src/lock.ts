/**
 * The store's default {@link FileLocker}, for users of `@berth/store` alone: `@berth/oci`'s
 * {@link pollingLocker} over proper-lockfile, a pure-JS lock (an atomic mkdir of `<path>.lock`,
 * its mtime refreshed while held), so the package needs no native addon and starts no process.
 * `@berth/engine` injects `@berth/runtime`'s flock(2) locker instead, which the kernel drops the
 * instant its holder dies.
 *
 * What the default costs: a holder killed with `kill -9` leaves its lock directory behind, and
 * the next taker waits until it is stale ({@link STALE_MS} without a refresh) before breaking
 * it. A shared lock is taken as an exclusive one. Every process that uses one store directory
 * must use the same kind of locker: a lock directory and a flock(2) do not see each other.
 *
 * proper-lockfile is loaded on first use: at load it hooks process signals (signal-exit) and
 * pulls in graceful-fs, which a process that injects another locker (the `berth` CLI) never needs.
 */
import { BerthError, type FileLocker, pollingLocker } from '@berth/oci';
import { StoreErrorCode } from './errors.js';

export { withFileLock as withLock } from '@berth/oci';

/** A lock directory not refreshed for this long is a dead holder's, and is broken. */
export const STALE_MS = 10_000;

/** The default locker of the content and image stores (see the module doc). */
export const lockfileLocker: FileLocker = pollingLocker({
  load: async () => (await import('proper-lockfile')).default,
  staleMs: STALE_MS,
  failed: (path, why, cause) =>
    new BerthError(StoreErrorCode.LOCK_FAILED, `lock ${path}: ${why}`, {
      input: { field: path },
      ...(cause === undefined ? {} : { cause }),
    }),
});
