/**
 * podman's rule for `--rm` (podman#10220): a container removed when it exits keeps nothing worth
 * a sync, so its overlay root is mounted `volatile` (overlayfs, Linux 5.10): every sync on it is
 * skipped. Above all its unmount no longer syncs the whole upper filesystem (overlay's
 * `sync_fs` at unmount syncs the upper superblock: on a busy disk 10-100 ms per `run --rm`).
 * Metadata (records, snapshot index) keeps its fsyncs; only the container's own writes lose
 * durability, which a container that is removed at exit never had.
 */
import { release } from 'node:os';
import { join } from 'node:path';
import { type Mount, removeTree } from '@berth/oci';

/** overlayfs `volatile` exists from Linux 5.10. */
export function volatileSupported(kernel = release()): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 5 || (maj === 5 && min >= 10);
}

/**
 * The mounts with `volatile` added to each overlay that has an upper dir. The kernel refuses to
 * mount a volatile upper again while `<workdir>/work/incompat/volatile` exists (left by the
 * previous volatile mount), so that marker is removed first, as podman does (containers/storage
 * #840): the container is removed at exit, a restart in between reuses its files as they are.
 */
export async function volatileMounts(mounts: readonly Mount[], kernel = release()): Promise<Mount[]> {
  if (!volatileSupported(kernel)) return [...mounts];
  return Promise.all(
    mounts.map(async (m) => {
      if (m.type !== 'overlay' || !m.options.some((o) => o.startsWith('upperdir='))) return m;
      const work = m.options.find((o) => o.startsWith('workdir='))?.slice('workdir='.length);
      if (work) await removeTree(join(work, 'work', 'incompat', 'volatile'));
      return { ...m, options: [...m.options, 'volatile'] };
    }),
  );
}
