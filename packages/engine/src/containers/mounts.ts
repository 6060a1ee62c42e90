/**
 * `@berth/overlay`'s `mountAll` and `unmount` with `@berth/runtime`'s mount(2)/umount2(2) injected
 * (one system call each, no mount(8) process). Every container root the engine mounts goes
 * through here, so no call site can fall back to overlay's mount(8) default by forgetting it.
 */
import type { Mount } from '@berth/oci';
import { mountAll as overlayMountAll, unmount as overlayUnmount } from '@berth/overlay';
import { syscallMounter } from '@berth/runtime';

/** Mounts `mounts` on `target` in order. @throws MOUNT_FAILED */
export function mountAll(
  mounts: readonly Mount[],
  target: string,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  return overlayMountAll(mounts, target, { ...options, mounter: syscallMounter });
}

/** Unmounts `target`; `lazy` detaches a busy mount. @throws MOUNT_FAILED */
export function unmount(
  target: string,
  options: { lazy?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  return overlayUnmount(target, { ...options, mounter: syscallMounter });
}
