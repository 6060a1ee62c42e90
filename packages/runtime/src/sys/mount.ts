/**
 * mount(2) and umount2(2) with mount(8)'s option words, without running mount(8): each was a
 * fork and exec of 5-15 ms on every container start and removal.
 */
import { BerthError, type Mounter } from '@berth/oci';
import { errnoError, errnoText, loadAddon } from './addon.js';
import { SysErrorCode } from './errors.js';

// <linux/mount.h>
const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  DIRSYNC: 128,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;
const MNT_DETACH = 2;

/** mount(8)'s flag words: [flags set, flags cleared]. */
const FLAG_WORDS: Readonly<Record<string, readonly [number, number]>> = {
  defaults: [0, 0],
  ro: [MS.RDONLY, 0],
  rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0],
  suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0],
  dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0],
  exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0],
  async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0],
  noatime: [MS.NOATIME, 0],
  atime: [0, MS.NOATIME],
  nodiratime: [MS.NODIRATIME, 0],
  diratime: [0, MS.NODIRATIME],
  relatime: [MS.RELATIME, 0],
  norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0],
  nostrictatime: [0, MS.STRICTATIME],
};

const PROPAGATION: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** What {@link mountOptions} makes of mount(8) option words. */
export interface MountFlags {
  /** MS_* flags of the mount itself. */
  flags: number;
  /** The filesystem's own options, comma-joined (mount(2)'s data), or null. */
  data: string | null;
  /** `bind` or `rbind` was given. */
  bind: boolean;
  /** MS_* propagation flags, applied by a call of their own. */
  propagation: number;
}

/**
 * Splits mount(8) option words into mount(2) flags and filesystem data, as mount(8) does.
 * Pure.
 */
export function mountOptions(options: readonly string[]): MountFlags {
  let flags = 0;
  let propagation = 0;
  let bind = false;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_WORDS[o];
    if (f) flags = (flags | f[0]) & ~f[1];
    else if (o === 'bind' || o === 'rbind') {
      bind = true;
      if (o === 'rbind') flags |= MS.REC;
    } else if (PROPAGATION[o] !== undefined) propagation = PROPAGATION[o]!;
    else data.push(o);
  }
  return { flags, data: data.length ? data.join(',') : null, bind, propagation };
}

// <errno.h>
const ENOENT = 2;
const EINVAL = 22;

function check(errno: number, what: string): void {
  if (errno !== 0)
    throw new BerthError(SysErrorCode.MOUNT_FAILED, `${what}: ${errnoText(errno)}`, {
      input: { field: what },
      // the errno's name stays reachable (STYLE.md, Errors): `cause.code` is `EINVAL`, `EBUSY`…
      cause: errnoError(errno, what),
    });
}

/**
 * Mounts `source` of `type` on `target` with mount(8) option words (`ro`, `nosuid`, `rbind`,
 * `lowerdir=…`). A bind mount with flags is a bind and then a remount, as mount(8) does;
 * propagation words are a call of their own. Needs CAP_SYS_ADMIN.
 * @throws BerthError MOUNT_FAILED naming the target and the errno, SYS_ADDON_NOT_FOUND
 */
export function mount(source: string, target: string, type: string, options: readonly string[] = []): void {
  const sys = loadAddon();
  const o = mountOptions(options);
  const what = `mount ${target}`;
  if (o.bind || type === 'bind') {
    check(sys.mount(source, target, null, MS.BIND | (o.flags & MS.REC), null), what);
    const rest = o.flags & ~MS.REC;
    if (rest !== 0)
      check(sys.mount(null, target, null, MS.REMOUNT | MS.BIND | rest, null), `${what} (remount)`);
  } else {
    check(sys.mount(source, target, type, o.flags, o.data), what);
  }
  if (o.propagation) check(sys.mount(null, target, null, o.propagation, null), `${what} (propagation)`);
}

/**
 * Unmounts `target`; `lazy` detaches a busy mount (MNT_DETACH).
 * @throws BerthError MOUNT_FAILED (EINVAL when nothing is mounted there), SYS_ADDON_NOT_FOUND
 */
export function unmount(target: string, options: { lazy?: boolean } = {}): void {
  check(loadAddon().umount2(target, options.lazy ? MNT_DETACH : 0), `umount ${target}`);
}

/**
 * {@link unmount} on the libuv thread pool, for callers that unmount many at once (`rm -f` of
 * many containers): the unmount of an overlay that was not mounted `volatile` syncs its upper
 * filesystem, and there the syncs overlap instead of queueing on the event loop.
 * @throws BerthError MOUNT_FAILED (EINVAL when nothing is mounted there), SYS_ADDON_NOT_FOUND
 */
export async function unmountAsync(target: string, options: { lazy?: boolean } = {}): Promise<void> {
  check(await loadAddon().umount2Async(target, options.lazy ? MNT_DETACH : 0), `umount ${target}`);
}

/**
 * One umount2(2) of the top mount on `target` (on the thread pool when `pool`): true when it
 * unmounted one, false when nothing is mounted there (EINVAL) or the path is gone (ENOENT), the
 * end of a loop that unmounts a stack without building an error for it (a removal's second
 * umount2 always ends so: two Error objects and their stacks, ~0.1 ms each time).
 * @throws BerthError MOUNT_FAILED for any other errno (EBUSY: the caller may detach it `lazy`)
 */
export async function unmountIfMounted(
  target: string,
  options: { lazy?: boolean; pool?: boolean } = {},
): Promise<boolean> {
  const sys = loadAddon();
  const flags = options.lazy ? MNT_DETACH : 0;
  const errno = options.pool ? await sys.umount2Async(target, flags) : sys.umount2(target, flags);
  if (errno === EINVAL || errno === ENOENT) return false;
  check(errno, `umount ${target}`);
  return true;
}

/**
 * {@link mount} and {@link unmount} as `@berth/oci`'s `Mounter`: what `@berth/engine` passes to
 * `@berth/overlay`'s `mountAll` and `unmount` in place of their mount(8)/umount(8) default.
 */
export const syscallMounter: Mounter = {
  async mount(source, target, type, options, opts = {}) {
    opts.signal?.throwIfAborted();
    mount(source, target, type, options);
  },
  async unmount(target, opts = {}) {
    opts.signal?.throwIfAborted();
    unmount(target, opts.lazy ? { lazy: true } : {});
  },
};
