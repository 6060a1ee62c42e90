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
