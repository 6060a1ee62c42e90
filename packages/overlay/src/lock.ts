/**
 * The snapshotter's default {@link FileLocker} for its metadata, for users of `@berth/overlay`
 * alone, who then need no native addon: proper-lockfile (a lock directory `<path>.lock` made by
 * an atomic mkdir, its mtime refreshed while held) through `@berth/oci`'s {@link pollingLocker}.
 * `@berth/engine` injects `@berth/runtime`'s flock(2) locker instead.
 *
 * Costs of the default: after a `kill -9` of a holder, the next taker waits {@link STALE_MS}
 * before it breaks the leftover directory; shared requests are exclusive. All processes on one
 * snapshots directory must use the same kind of locker (a lock directory and a flock(2) do not
 * see each other). proper-lockfile loads on first use, since loading it hooks process signals.
 */
import { BerthError, type FileLocker, pollingLocker } from '@berth/oci';
import { OverlayErrorCode } from './errors.js';

export { withFileLock as withLock } from '@berth/oci';

/** A lock directory not refreshed for this long is a dead holder's, and is broken. */
export const STALE_MS = 10_000;

/** The default locker of the snapshotter's metadata (see the module doc). */
export const lockfileLocker: FileLocker = pollingLocker({
  load: async () => (await import('proper-lockfile')).default,
  staleMs: STALE_MS,
  failed: (path, why, cause) =>
    new BerthError(OverlayErrorCode.LOCK_FAILED, `lock ${path}: ${why}`, {
      input: { field: path },
      ...(cause === undefined ? {} : { cause }),
    }),
});
