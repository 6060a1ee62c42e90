/**
 * @berth/sys: the Linux system calls Node lacks that berth makes on every container command,
 * flock(2), mount(2) and umount2(2), through a tiny N-API addon (native/sys.c).
 */
export { ADDON_PATH } from './addon.js';
export { SysErrorCode } from './errors.js';
export { type FileLock, flockLocker, lockFile, lockFileShared, withLock } from './lock.js';
export { type MountFlags, mount, mountOptions, syscallMounter, unmount } from './mount.js';
