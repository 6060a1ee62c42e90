/**
 * `docker export`: a tar of the container's merged root filesystem. A running container's root
 * is its live overlay mount; a stopped one's is mounted for the export under the container's
 * lock (so `start` waits) and unmounted after. The tree is hostile: nothing is followed (lstat,
 * readlink, files opened with O_NOFOLLOW and checked to be the inode lstat saw), sockets are
 * left out, and a running container is frozen while it is read, so its processes cannot swap
 * a directory for a symlink to a host path mid-walk (moby runs its tar in a chroot instead).
 */
import { constants, createReadStream } from 'node:fs';
import { lstat, open, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { whileFrozen } from './changes.js';
import type { ServiceInternals } from './internals.js';
import { mountAll, unmount } from './mounts.js';

/** Options of {@link exportContainer}. */
export interface ExportOptions {
  /** Where the tar goes. */
  output: Writable;
  signal?: AbortSignal;
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Writes the tree under `root` into `pack`, names relative (`bin/`, `bin/sh`), as docker's export. */
async function packTree(pack: tar.Pack, root: string, signal?: AbortSignal): Promise<void> {
  const links = new Map<string, string>();
  const entry = (h: Partial<tar.Header> & { name: string }) =>
    new Promise<void>((resolve, reject) => pack.entry(h, (err) => (err ? reject(err) : resolve())));
  const walk = async (rel: string): Promise<void> => {
    const dir = rel === '' ? root : join(root, rel);
    for (const name of (await readdir(dir)).sort(byteOrder)) {
      signal?.throwIfAborted();
      const crel = rel === '' ? name : `${rel}/${name}`;
      const abs = join(dir, name);
      const st = await lstat(abs).catch(() => undefined);
      if (!st) continue; // gone meanwhile (a running container)
      const base = {
        name: crel,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000),
      };
      if (st.isDirectory()) {
        await entry({ ...base, name: `${crel}/`, type: 'directory' });
        await walk(crel);
      } else if (st.isSymbolicLink()) {
        await entry({ ...base, type: 'symlink', linkname: await readlink(abs) });
      } else if (st.isFile()) {
        const id = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(id) : undefined;
        if (first !== undefined) {
          await entry({ ...base, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) links.set(id, crel);
        const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          // the inode lstat saw, nothing swapped in since
          const fst = await fh.stat();
          if (fst.ino !== st.ino || fst.dev !== st.dev) continue;
          const w = pack.entry({ ...base, type: 'file', size: st.size });
          if (st.size > 0) {
            await pipeline(
              createReadStream('', { fd: fh.fd, autoClose: false, start: 0, end: st.size - 1 }),
              w,
            );
          } else {
            await new Promise<void>((resolve, reject) =>
              w.end((err?: Error | null) => (err ? reject(err) : resolve())),
            );
          }
        } finally {
          await fh.close();
        }
      } else if (st.isFIFO()) {
        await entry({ ...base, type: 'fifo' });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await entry({
          ...base,
          type: st.isCharacterDevice() ? 'character-device' : 'block-device',
          devmajor: Math.floor(st.rdev / 256) & 0xfff,
          devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
        });
      }
      // sockets are not archived (docker's archive skips them too)
    }
  };
  await walk('');
}

/** Streams a tar of the container's root filesystem to `output`. @throws CONTAINER_NOT_FOUND */
export async function exportContainer(
  s: ServiceInternals,
  ref: string,
  options: ExportOptions,
): Promise<void> {
  const rt = await s.runtime();
  const rec = await s.read(ref);
  const rootfs = join(s.dir(rec.Id), 'rootfs');
  await s.event(rec, 'export');
  const write = async () => {
    const pack = tar.pack();
    const done = pipeline(pack, options.output, options.signal ? { signal: options.signal } : {});
    done.catch(() => {}); // awaited below; the reader may go away first (EPIPE)
    try {
      // the walk waits on the pack, which stops when the output fails: race the two
      await Promise.race([packTree(pack, rootfs, options.signal), done]);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      await done.catch(() => {});
      throw err;
    }
    await done;
  };
  if ((await s.liveState(rt, rec)).Running) return whileFrozen(s, rec, write);
  await s.locked(
    rec.Id,
    async (r, rt2) => {
      if ((await s.liveState(rt2, r)).Running) return write();
      const sn = await s.snapshotter();
      const info = await readFile('/proc/self/mountinfo', 'utf8');
      const mounted = info.split('\n').some((l) => l.split(' ')[4] === rootfs);
      if (mounted) return write();
      await mountAll(
        await sn.mounts(r.Snapshot.key),
        rootfs,
        options.signal ? { signal: options.signal } : {},
      );
      try {
        await write();
      } finally {
        await unmount(rootfs).catch(() => unmount(rootfs, { lazy: true }));
      }
    },
    options.signal,
  );
}
