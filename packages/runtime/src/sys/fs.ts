/**
 * syncfs(2), mknod(2), the ext2/3/4 inode flag of `chattr +T` and a tree's removal through the addon, as
 * `@berth/oci`'s `FsCalls`: what `@berth/engine` passes to `@berth/overlay` in place of its
 * default, which runs `sync -f`, `mknod`, `mkfifo` and `chattr`. A pull made 5-8 of those
 * processes, each a fork of a process of a few hundred MB (5-25 ms, the spawning thread blocked).
 */
import { BerthError, type FsCalls } from '@berth/oci';
import { errnoText, loadAddon } from './addon.js';
import { SysErrorCode } from './errors.js';

// <sys/stat.h>
const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const KIND: Readonly<Record<'c' | 'b' | 'p', number>> = { c: S_IFCHR, b: S_IFBLK, p: S_IFIFO };
// <linux/fs.h>
const FS_TOPDIR_FL = 0x00020000;

function failed(call: string, path: string, errno: number): BerthError {
  return new BerthError(SysErrorCode.FS_CALL_FAILED, `${call} ${path}: ${errnoText(errno)}`, {
    input: { field: path },
  });
}

/** `@berth/oci`'s `FsCalls` as one system call each (no process). */
export const syscallFsCalls: FsCalls = {
  async syncfs(path, opts = {}) {
    opts.signal?.throwIfAborted();
    const e = await loadAddon().syncfsAsync(path);
    if (e !== 0) throw failed('syncfs', path, e);
  },
  async mknod(path, kind, mode, major, minor) {
    const type = KIND[kind];
    if (type === undefined) {
      throw new BerthError('INTERNAL', `mknod ${path}: unknown kind ${JSON.stringify(kind)}`, {
        input: { field: 'kind' },
      });
    }
    const e = loadAddon().mknod(
      path,
      type | (mode & 0o777),
      kind === 'p' ? 0 : major,
      kind === 'p' ? 0 : minor,
    );
    if (e !== 0) throw failed('mknod', path, e);
  },
  async setTopDir(path) {
    const e = loadAddon().setInodeFlags(path, FS_TOPDIR_FL);
    if (e !== 0) throw failed('chattr +T', path, e);
  },
  async removeTree(dir, options = {}) {
    const sys = loadAddon();
    // an addon of an older build: fs.promises.rm does it all
    if (typeof sys.removeTreeAsync !== 'function') return false;
    return (await sys.removeTreeAsync(dir, options.last ?? null)) === 0;
  },
};

// renameat2(2): a file system that cannot exchange (EINVAL), a kernel or addon without the call
const EXCHANGE_UNSUPPORTED = new Set([22 /* EINVAL */, 38 /* ENOSYS */, 95 /* EOPNOTSUPP */]);

/**
 * Swaps the files named `from` and `to` atomically (renameat2 RENAME_EXCHANGE): a reader of `to`
 * sees the one or the other, and no inode is allocated or freed (write-temp-and-rename makes a new
 * inode per write, and on an ext4 without a journal each costs a scan past the inodes freed in the
 * last minute). False when `to` (or `from`) does not exist or the file system cannot exchange:
 * the caller renames instead.
 * @throws BerthError FS_CALL_FAILED for any other errno
 */
export function renameExchange(from: string, to: string): boolean {
  const sys = loadAddon();
  if (typeof sys.renameExchange !== 'function') return false;
  const e = sys.renameExchange(from, to);
  if (e === 0) return true;
  if (e === 2 /* ENOENT */ || EXCHANGE_UNSUPPORTED.has(e)) return false;
  throw failed('renameat2 RENAME_EXCHANGE', `${from} ${to}`, e);
}
