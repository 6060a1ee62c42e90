/** Error codes raised by the flock/mount functions (STYLE.md, Errors); every error is a `BerthError`. */
export const SysErrorCode = {
  /** The addon (`native/build/berth-sys.node`) is not built or cannot load; lists where it looked. */
  SYS_ADDON_NOT_FOUND: 'SYS_ADDON_NOT_FOUND',
  /** flock(2) failed (not "taken": that waits). */
  LOCK_FAILED: 'LOCK_FAILED',
  /** mount(2) or umount2(2) failed; the message names the target and the errno. */
  MOUNT_FAILED: 'MOUNT_FAILED',
  /** syncfs(2), mknod(2) or the inode-flag ioctl failed; the message names the path and the errno. */
  FS_CALL_FAILED: 'FS_CALL_FAILED',
} as const;

/** Union of {@link SysErrorCode} values. */
export type SysErrorCode = (typeof SysErrorCode)[keyof typeof SysErrorCode];
