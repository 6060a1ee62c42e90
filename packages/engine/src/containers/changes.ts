/**
 * `docker diff`: the container's changes against its image, from @berth/overlay's walk of the
 * snapshot's upper directory. The mount points berth creates in the root (`/etc/hosts`,
 * `/etc/hostname`, `/etc/resolv.conf`, and the spec's other mount destinations) are left out,
 * as docker keeps them in its `-init` layer; the same set is left out of `commit`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mount } from '@berth/oci';
import type { ServiceInternals } from './internals.js';
import type { ContainerRecord } from './types.js';

/** The Engine API's `FilesystemChange`: Kind 0 modified, 1 added, 2 deleted. */
export interface ContainerChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

const BERTH_MOUNTPOINTS = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];

/** The paths berth (or the runtime) creates in a container's root to mount on. */
export async function containerMountpoints(s: ServiceInternals, rec: ContainerRecord): Promise<string[]> {
  const out = new Set(BERTH_MOUNTPOINTS);
  const text = await readFile(join(s.dir(rec.Id), 'config.json'), 'utf8').catch(() => '');
  if (text) {
    try {
      const spec = JSON.parse(text) as { mounts?: { destination?: string }[] };
      for (const m of spec.mounts ?? []) if (typeof m.destination === 'string') out.add(m.destination);
    } catch {
      // a torn bundle (it is rebuilt at each start): the fixed set still applies
    }
  }
  return [...out];
}

/**
 * Runs `fn` with the mounts of the container's snapshot and, for the copy driver (a bind of a
 * full copy), a temporary read-only view of its parent to compare with.
 */
export async function withSnapshotMounts<T>(
  s: ServiceInternals,
  rec: ContainerRecord,
  fn: (upper: Mount[], lower: Mount[] | undefined) => Promise<T>,
): Promise<T> {
  const sn = await s.snapshotter();
  const upper = await sn.mounts(rec.Snapshot.key);
  if (upper[0]?.type !== 'bind' || !rec.Snapshot.parent) return fn(upper, undefined);
  const viewKey = `${rec.Id}-diff-${process.pid}-${Date.now()}`;
  const lower = await sn.view(viewKey, rec.Snapshot.parent);
  try {
    return await fn(upper, lower);
  } finally {
    await sn.remove(viewKey).catch(() => {});
  }
}

/**
 * Runs `fn` with a running container frozen (thawed after, unless the user had paused it): its
 * processes cannot swap a directory for a symlink to a host path while berth walks its files
 * from the host. (moby runs that walk in a chroot; the freezer gives the same guarantee here.)
 */
export async function whileFrozen<T>(
  s: ServiceInternals,
  rec: ContainerRecord,
  fn: () => Promise<T>,
): Promise<T> {
  const rt = await s.runtime();
  const live = await s.liveState(rt, rec);
  const freeze = live.Running && !live.Paused;
  if (freeze) await rt.pause(rec.Id);
  try {
    return await fn();
  } finally {
    if (freeze) await rt.resume(rec.Id).catch(() => {});
  }
}

/** The container's filesystem changes, docker's order. @throws CONTAINER_NOT_FOUND */
export async function containerChanges(s: ServiceInternals, ref: string): Promise<ContainerChange[]> {
  const rec = await s.read(ref);
  const [{ snapshotChanges }, mountpoints] = await Promise.all([
    s.ctx.overlay(),
    containerMountpoints(s, rec),
  ]);
  const changes = await whileFrozen(s, rec, () =>
    withSnapshotMounts(s, rec, async (upper, lower) =>
      snapshotChanges({ upper, ...(lower ? { lower } : {}), mountpoints }),
    ),
  );
  return changes.map((c) => ({ Path: c.path, Kind: c.kind === 'C' ? 0 : c.kind === 'A' ? 1 : 2 }));
}
