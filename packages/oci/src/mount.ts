/**
 * A mount is data: a serialised mount(2) call (containerd's "lingua franca"). `@berth/overlay`
 * emits `Mount[]` for a snapshot; `@berth/runtime` and `@berth/engine` consume them. Nobody
 * else calls mount.
 *
 * @example
 * ```ts
 * const m: Mount = {
 *   type: 'overlay',
 *   source: 'overlay',
 *   options: ['lowerdir=/l/2:/l/1', 'upperdir=/u', 'workdir=/w'],
 * };
 * ```
 */
export interface Mount {
  /** Filesystem type (`overlay`, `bind`, `tmpfs`, ...). */
  type: string;
  /** Source device or path (for overlay, conventionally `overlay`). */
  source: string;
  /** Where to mount, relative to the root it is applied under; omitted when the caller decides. */
  target?: string;
  /** mount(8)-style options (`ro`, `rbind`, `lowerdir=...`). */
  options: string[];
}

/**
 * Performs mounts: what `@berth/overlay`'s `mountAll` and `unmount` call. Declared here, types
 * only: overlay's default runs util-linux mount(8)/umount(8); `@berth/engine` injects
 * `@berth/runtime`'s mount(2)/umount2(2) (one system call, no process). Needs CAP_SYS_ADMIN.
 */
export interface Mounter {
  /**
   * Mounts `source` of filesystem `type` on `target` with mount(8) option words (`ro`,
   * `nosuid`, `rbind`, `lowerdir=…`); a `bind` type or a `bind`/`rbind` word makes a bind mount.
   * Absolute paths only: a relative `lowerdir` is the caller's to resolve.
   * @throws BerthError `MOUNT_FAILED` naming the target and the reason
   */
  mount(
    source: string,
    target: string,
    type: string,
    options: readonly string[],
    opts?: { signal?: AbortSignal },
  ): Promise<void>;
  /**
   * Unmounts `target`; `lazy` detaches a busy mount (MNT_DETACH, `umount -l`).
   * @throws BerthError `MOUNT_FAILED` naming the target (also when nothing is mounted there)
   */
  unmount(target: string, opts?: { lazy?: boolean; signal?: AbortSignal }): Promise<void>;
}
