import { BerthError, type ErrorInput } from '@berth/oci';

/**
 * Error codes of `@berth/overlay` (stable once released). A bad layer entry carries
 * `input: { field: <entry path as written in the tar> }`; a snapshot error carries `input: { ref: <key> }`.
 */
export const OverlayErrorCode = {
  /** A tar entry is malformed: NUL in a name, absolute path, `..` component, bad whiteout, unknown type. */
  LAYER_INVALID_ENTRY: 'LAYER_INVALID_ENTRY',
  /** A tar entry would write through a symlink or link to something outside the snapshot root. */
  LAYER_UNSAFE_PATH: 'LAYER_UNSAFE_PATH',
  /** A PAX or GNU long-name header is larger than the cap ({@link MAX_TAR_META_BYTES}). */
  LAYER_HEADER_TOO_LARGE: 'LAYER_HEADER_TOO_LARGE',
  /** The layer is not a readable tar (bad checksum, truncated, corrupt compression). */
  LAYER_INVALID_TAR: 'LAYER_INVALID_TAR',
  /** The layer's compression is not tar, gzip or zstd. */
  LAYER_UNSUPPORTED_COMPRESSION: 'LAYER_UNSUPPORTED_COMPRESSION',
  /** The uncompressed layer's digest (diffID) or the compressed digest is not the expected one. */
  DIGEST_MISMATCH: 'DIGEST_MISMATCH',
  /** No snapshot with that key or name. */
  SNAPSHOT_NOT_FOUND: 'SNAPSHOT_NOT_FOUND',
  /** A snapshot with that key or name exists already. */
  SNAPSHOT_EXISTS: 'SNAPSHOT_EXISTS',
  /** The snapshot is a parent of other snapshots and cannot be removed. */
  SNAPSHOT_HAS_CHILDREN: 'SNAPSHOT_HAS_CHILDREN',
  /** The operation does not fit the snapshot's kind (commit a view, parent an active snapshot...). */
  SNAPSHOT_INVALID_STATE: 'SNAPSHOT_INVALID_STATE',
  /** The snapshotter's metadata file cannot be read or has an unknown version. */
  SNAPSHOT_METADATA_CORRUPT: 'SNAPSHOT_METADATA_CORRUPT',
  /** The snapshotter root is unusable (not absolute, or holds `,` or `:` which overlay options cannot carry). */
  SNAPSHOT_INVALID_ROOT: 'SNAPSHOT_INVALID_ROOT',
  /** A mount or unmount failed (mount(8)/umount(8), or the injected mounter); names the target. */
  MOUNT_FAILED: 'MOUNT_FAILED',
  /**
   * The metadata lock could not be taken (not "busy": that waits), or the default locker's lock
   * was broken as stale while held. The same code as `@berth/runtime`'s flock(2) locker.
   */
  LOCK_FAILED: 'LOCK_FAILED',
  /** A helper tool (mknod, mkfifo, cp, sync) failed or is missing. */
  TOOL_FAILED: 'TOOL_FAILED',
} as const;

/** Union of {@link OverlayErrorCode} values. */
export type OverlayErrorCode = (typeof OverlayErrorCode)[keyof typeof OverlayErrorCode];

/** Cap on a PAX (`x`, `g`) or GNU long-name (`L`, `K`) header's size, as Go's archive/tar (1 MiB). */
export const MAX_TAR_META_BYTES = 1024 * 1024;

/** Builds an overlay error for a tar entry, subject first. */
export function entryError(
  code: OverlayErrorCode,
  entry: string,
  what: string,
  cause?: unknown,
): BerthError<OverlayErrorCode> {
  const input: ErrorInput = { field: entry };
  return new BerthError(code, `layer entry ${JSON.stringify(entry)}: ${what}`, {
    input,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Builds an overlay error for a snapshot key or name, subject first. */
export function snapshotError(
  code: OverlayErrorCode,
  key: string,
  what: string,
  cause?: unknown,
): BerthError<OverlayErrorCode> {
  return new BerthError(code, `snapshot ${JSON.stringify(key)}: ${what}`, {
    input: { ref: key },
    ...(cause === undefined ? {} : { cause }),
  });
}
