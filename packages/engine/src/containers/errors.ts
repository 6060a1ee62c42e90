import { BerthError } from '@berth/oci';

/**
 * Codes the container service raises itself. The runtime's codes pass through unchanged
 * (`EXEC_NOT_FOUND` → docker's 127, `EXEC_PERMISSION_DENIED` → 126, `LAUNCH_FAILED`,
 * `SHIM_DIED`), as do the image service's (`IMAGE_NOT_FOUND`) and buildSpec's (`NO_COMMAND`,
 * `USER_NOT_FOUND`, `INVALID_OPTION`).
 */
export const ContainerErrorCode = {
  /** No container has this name, ID or ID prefix (docker: `No such container: web`). */
  CONTAINER_NOT_FOUND: 'CONTAINER_NOT_FOUND',
  /** An ID prefix matches several containers. */
  CONTAINER_AMBIGUOUS: 'CONTAINER_AMBIGUOUS',
  /** The name is taken by another container (docker's `Conflict. The container name …`). */
  CONTAINER_NAME_CONFLICT: 'CONTAINER_NAME_CONFLICT',
  /** The operation needs a stopped container (rm without force, rename of a removing one). */
  CONTAINER_RUNNING: 'CONTAINER_RUNNING',
  /** The operation needs a running container (kill, pause). */
  CONTAINER_NOT_RUNNING: 'CONTAINER_NOT_RUNNING',
  /** pause of a paused container (docker: `Container … is already paused`). */
  CONTAINER_PAUSED: 'CONTAINER_PAUSED',
  /** unpause of a container that is not paused (docker: `Container … is not paused`). */
  CONTAINER_NOT_PAUSED: 'CONTAINER_NOT_PAUSED',
  /** `top`: ps failed or printed no PID column (docker: `Error running ps: …`). */
  PS_FAILED: 'PS_FAILED',
  /** Another operation is removing the container. */
  CONTAINER_REMOVING: 'CONTAINER_REMOVING',
  /** A container option is invalid (name, restart policy, network, log option, size). */
  INVALID_OPTION: 'INVALID_OPTION',
  /** A container record on disk cannot be read (bad JSON, unknown version). */
  CONTAINER_RECORD_INVALID: 'CONTAINER_RECORD_INVALID',
  /**
   * A user-namespaced container's root (an unprivileged host uid) cannot reach its rootfs: a
   * directory above berth's root is not searchable by others (runc's rule).
   */
  USERNS_PATH_UNREACHABLE: 'USERNS_PATH_UNREACHABLE',
  /** Kept for compatibility; no longer raised (the lock is `@berth/runtime`'s: `LOCK_FAILED`). */
  CONTAINER_LOCK_FAILED: 'CONTAINER_LOCK_FAILED',
} as const;
/** Union of {@link ContainerErrorCode} values. */
export type ContainerErrorCode = (typeof ContainerErrorCode)[keyof typeof ContainerErrorCode];

/** docker's text for a missing container: `No such container: web`. */
export function noSuchContainer(ref: string): BerthError<'CONTAINER_NOT_FOUND'> {
  return new BerthError(ContainerErrorCode.CONTAINER_NOT_FOUND, `No such container: ${ref}`, {
    input: { ref },
  });
}

/** An invalid container option, naming the field. */
export function invalidOption(field: string, why: string): BerthError<'INVALID_OPTION'> {
  return new BerthError(ContainerErrorCode.INVALID_OPTION, `${field}: ${why}`, { input: { field } });
}
