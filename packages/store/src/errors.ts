/**
 * Error codes raised by `@berth/store` (STYLE.md, Errors). Every error is a `BerthError` from
 * `@berth/oci`; test for one with `isBerthError(err, 'BLOB_NOT_FOUND')`.
 */

/** The store's stable error codes. */
export const StoreErrorCode = {
  /** No blob with that digest is in the content store. */
  BLOB_NOT_FOUND: 'BLOB_NOT_FOUND',
  /** An ingest ref or writer was used wrongly (after commit/abort, bad ref). */
  INGEST_INVALID: 'INGEST_INVALID',
  /** No image matches the reference, ID or digest. */
  IMAGE_NOT_FOUND: 'IMAGE_NOT_FOUND',
  /** A short ID prefix matches more than one image. */
  IMAGE_AMBIGUOUS: 'IMAGE_AMBIGUOUS',
  /** Deleting the image needs `force` (it is tagged in several repositories). */
  IMAGE_CONFLICT: 'IMAGE_CONFLICT',
  /** A stored document (index.json, a manifest, a record) is unreadable or does not match its digest. */
  STORE_CORRUPT: 'STORE_CORRUPT',
  /**
   * The cross-process lock could not be taken (not "busy": that waits), or the default locker's
   * lock was broken as stale while held. The same code as `@berth/runtime`'s flock(2) locker.
   */
  LOCK_FAILED: 'LOCK_FAILED',
  /** Kept for compatibility; no longer raised (the store's locks fail with `LOCK_FAILED`). */
  STORE_LOCK_FAILED: 'STORE_LOCK_FAILED',
  /** No lease with that ID. */
  LEASE_NOT_FOUND: 'LEASE_NOT_FOUND',
  /** A lease with that ID already exists. */
  LEASE_EXISTS: 'LEASE_EXISTS',
  /** A lease ID, label or resource is not acceptable. */
  LEASE_INVALID: 'LEASE_INVALID',
  /** A list filter (`dangling=`, `reference=`, `label=`) is not understood. */
  INVALID_FILTER: 'INVALID_FILTER',
} as const;

/** Union of {@link StoreErrorCode} values. */
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];
