/**
 * `@berth/overlay`'s `mountAll` and `unmount` with `@berth/runtime`'s mount(2)/umount2(2) injected
 * (one system call each, no mount(8) process). Every container root the engine mounts goes
 * through here, so no call site can fall back to overlay's mount(8) default by forgetting it.
 */
import type { Mount, Mounter } from '@berth/oci';
import { mountAll as overlayMountAll, unmount as overlayUnmount } from '@berth/overlay';
import { unmountIfMounted as runtimeUnmountIfMounted, syscallMounter, unmountAsync } from '@berth/runtime';

/** {@link syscallMounter} with its umount2 on the thread pool. */
const poolMounter: Mounter = {
  mount: syscallMounter.mount,
  async unmount(target, opts = {}) {
    opts.signal?.throwIfAborted();
    await unmountAsync(target, opts.lazy ? { lazy: true } : {});
  },
};

/** Mounts `mounts` on `target` in order. @throws MOUNT_FAILED */
export function mountAll(
  mounts: readonly Mount[],
  target: string,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  return overlayMountAll(mounts, target, { ...options, mounter: syscallMounter });
}

/**
 * Unmounts `target`; `lazy` detaches a busy mount; `pool` makes the umount2 on the thread pool
 * (beside other removals, whose unmounts then overlap). @throws MOUNT_FAILED
 */
export function unmount(
  target: string,
  options: { lazy?: boolean; pool?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  const { pool, ...rest } = options;
  return overlayUnmount(target, { ...rest, mounter: pool ? poolMounter : syscallMounter });
}

/**
 * One umount2 of the top mount on `target` (`pool`: on the thread pool); false when nothing is
 * mounted there or the path is gone, the end of a loop over a stack of mounts, without an error
 * built for it. @throws MOUNT_FAILED
 */
export function unmountIfMounted(
  target: string,
  options: { lazy?: boolean; pool?: boolean } = {},
): Promise<boolean> {
  return runtimeUnmountIfMounted(target, options);
}
