import { BerthError } from '@berth/oci';

/**
 * Codes the engine raises itself. Codes of the packages it composes pass through unchanged
 * (`IMAGE_NOT_FOUND`, `IMAGE_CONFLICT`, `IMAGE_AMBIGUOUS` from `@berth/store`; `UNAUTHORIZED`,
 * `MANIFEST_UNKNOWN`, `DIGEST_MISMATCH` from `@berth/registry`; `LAYER_*` from `@berth/overlay`).
 */
export const EngineErrorCode = {
  /** No image matches the reference or ID (docker: `No such image: busybox:latest`). */
  IMAGE_NOT_FOUND: 'IMAGE_NOT_FOUND',
  /** A container uses the image and `force` was not given. */
  IMAGE_IN_USE: 'IMAGE_IN_USE',
  /** An image archive (`load`) is malformed or hostile: path escapes, bad JSON, missing files. */
  ARCHIVE_INVALID: 'ARCHIVE_INVALID',
  /** A file of an image archive does not match the digest or size it is named by. */
  ARCHIVE_DIGEST_MISMATCH: 'ARCHIVE_DIGEST_MISMATCH',
  /** A layer's uncompressed digest does not match the config's `rootfs.diff_ids`. */
  LAYER_DIFF_ID_MISMATCH: 'LAYER_DIFF_ID_MISMATCH',
  /** An option given to the engine is invalid (a filter, a save format, a platform). */
  INVALID_OPTION: 'INVALID_OPTION',
  /** `save` of nothing, or of references that do not name images. */
  NOTHING_TO_SAVE: 'NOTHING_TO_SAVE',
} as const;
/** Union of {@link EngineErrorCode} values. */
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

/** docker's text for a missing image: `No such image: busybox:latest`. */
export function noSuchImage(ref: string, cause?: unknown): BerthError<'IMAGE_NOT_FOUND'> {
  return new BerthError(EngineErrorCode.IMAGE_NOT_FOUND, `No such image: ${ref}`, {
    input: { ref },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** An archive error naming the archive entry. */
export function archiveInvalid(entry: string, why: string, cause?: unknown): BerthError<'ARCHIVE_INVALID'> {
  return new BerthError(
    EngineErrorCode.ARCHIVE_INVALID,
    `load: archive entry ${JSON.stringify(entry)}: ${why}`,
    {
      input: { field: entry },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
