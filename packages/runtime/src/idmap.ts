/**
 * User namespace maps as users write them, and idmapped mounts: how a rootfs made of image
 * layers owned by host root looks owned by a container's root without copying or chowning it.
 */
import { readdirSync, rmdirSync } from 'node:fs';
import { lchown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, type LinuxIDMapping, type Mount } from '@berth/oci';
import { childProcess } from './child-process.js';
import { checkIdMappings } from './launch-spec.js';
import { type LocateShimOptions, locateShim } from './locate-shim.js';

/** Error codes of this module. */
export const IdMapErrorCode = {
  /** A mapping that is not CONTAINER:HOST:SIZE, or that the kernel would refuse. */
  INVALID_ID_MAPPING: 'INVALID_ID_MAPPING',
  /** The idmapped mount failed (the filesystem cannot be idmapped, no such path...). */
  IDMAP_FAILED: 'IDMAP_FAILED',
} as const;
/** Union of {@link IdMapErrorCode} values. */
export type IdMapErrorCode = (typeof IdMapErrorCode)[keyof typeof IdMapErrorCode];

/**
 * Parses podman's `--uidmap`/`--gidmap` value `CONTAINER:HOST:SIZE` (several joined by `,`
 * are several mappings), checked as the kernel checks maps.
 *
 * @throws BerthError INVALID_ID_MAPPING naming `field`
 */
export function parseIdMappings(values: readonly string[], field: string): LinuxIDMapping[] {
  const out: LinuxIDMapping[] = [];
  for (const v of values)
    for (const part of v.split(',')) {
      const m = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(part);
      if (!m)
        throw new BerthError('INVALID_ID_MAPPING', `${field} "${part}": expected CONTAINER:HOST:SIZE`, {
          input: { field },
        });
      out.push({ containerID: Number(m[1]), hostID: Number(m[2]), size: Number(m[3]) });
    }
  try {
    checkIdMappings(out, field);
  } catch (err) {
    throw new BerthError('INVALID_ID_MAPPING', (err as Error).message.replace(/^launch description: /, ''), {
      input: { field },
      cause: err,
    });
  }
  return out;
}

/** The host id that container id `id` maps to, or undefined when it is not mapped. */
export function hostId(maps: readonly LinuxIDMapping[], id: number): number | undefined {
  const m = maps.find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m ? m.hostID + (id - m.containerID) : undefined;
}

/** Options of {@link idmappedMount}. */
export interface IdmappedMountOptions {
  /** The directory to clone (not recursive: mounts below it are not carried). */
  source: string;
  /** Where the idmapped clone is attached. */
  target: string;
  uidMappings: readonly LinuxIDMapping[];
  gidMappings: readonly LinuxIDMapping[];
  /** Where to find berth-shim, which makes the mount. */
  shim?: LocateShimOptions;
  signal?: AbortSignal;
}

/**
 * Attaches an idmapped clone of `source` at `target` (mount_setattr MOUNT_ATTR_IDMAP, Linux
 * 5.12): a file owned by N on disk shows as owned by the host id container id N maps to, and a
 * file created through it by host id H is stored as the container id of H. The filesystem must
 * support idmapped mounts (ext4, xfs, btrfs, tmpfs); overlayfs cannot be idmapped itself but
 * takes idmapped layers (Linux 5.19). Root only. Unmount `target` to undo.
 *
 * @throws BerthError INVALID_ID_MAPPING, SHIM_NOT_FOUND, IDMAP_FAILED with the kernel's reason
 */
export async function idmappedMount(o: IdmappedMountOptions): Promise<void> {
  for (const [f, maps] of [
    ['uidMappings', o.uidMappings],
    ['gidMappings', o.gidMappings],
  ] as const) {
    if (maps.length === 0)
      throw new BerthError('INVALID_ID_MAPPING', `${f}: no mapping`, { input: { field: f } });
    try {
      checkIdMappings(maps, f);
    } catch (err) {
      throw new BerthError(
        'INVALID_ID_MAPPING',
        (err as Error).message.replace(/^launch description: /, ''),
        {
          input: { field: f },
          cause: err,
        },
      );
    }
  }
  const shim = await locateShim(o.shim);
  const args = [
    '--idmap-mount',
    o.source,
    o.target,
    ...o.uidMappings.map((m) => `u:${m.containerID}:${m.hostID}:${m.size}`),
    ...o.gidMappings.map((m) => `g:${m.containerID}:${m.hostID}:${m.size}`),
  ];
  const { execFile } = childProcess();
  await new Promise<void>((resolve, reject) => {
    execFile(shim, args, o.signal ? { signal: o.signal } : {}, (err, _out, stderr) => {
      if (!err) return resolve();
      const why = stderr.trim().replace(/^berth-shim: (idmap: )?/, '') || err.message;
      reject(
        new BerthError('IDMAP_FAILED', `idmapped mount ${o.source} on ${o.target}: ${why}`, { cause: err }),
      );
    });
  });
}

/** Options of {@link idmapLayers}. */
export interface IdmapLayersOptions {
  uidMappings: readonly LinuxIDMapping[];
  gidMappings: readonly LinuxIDMapping[];
  shim?: LocateShimOptions;
  signal?: AbortSignal;
}

function umount(path: string): Promise<void> {
  return new Promise((resolve) => {
    childProcess().execFile('umount', ['-l', '--', path], () => resolve());
  });
}

/**
 * Rewrites a snapshot's mounts so the rootfs they make looks owned by the container's root:
 * each overlay lower layer (and a bind source) is replaced by an idmapped mount of it under
 * `dir` (named 0, 1, ... so the overlay options stay short), and the upper directory's root is
 * chowned to the host ids of container 0:0, so what the container writes is stored with its host
 * ids (podman's layout with idmapped layers). Overlay takes idmapped lowers since Linux 5.19; the
 * overlay mount itself cannot be idmapped. Undo with {@link releaseIdmapLayers}.
 *
 * @throws BerthError INVALID_ID_MAPPING, IDMAP_FAILED (what was mounted is undone)
 */
export async function idmapLayers(
  mounts: readonly Mount[],
  dir: string,
  o: IdmapLayersOptions,
): Promise<Mount[]> {
  const uid = hostId(o.uidMappings, 0);
  const gid = hostId(o.gidMappings, 0);
  await mkdir(dir, { recursive: true, mode: 0o711 });
  let n = 0;
  const made: string[] = [];
  const idmap = async (source: string): Promise<string> => {
    const target = join(dir, String(n++));
    await mkdir(target, { recursive: true });
    await idmappedMount({
      source,
      target,
      uidMappings: o.uidMappings,
      gidMappings: o.gidMappings,
      ...(o.shim ? { shim: o.shim } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    made.push(target);
    return target;
  };
  try {
    const out: Mount[] = [];
    for (const m of mounts) {
      if (m.type === 'overlay') {
        const options: string[] = [];
        for (const opt of m.options) {
          if (opt.startsWith('lowerdir=')) {
            const lowers: string[] = [];
            for (const l of opt.slice('lowerdir='.length).split(':')) lowers.push(await idmap(l));
            options.push(`lowerdir=${lowers.join(':')}`);
          } else {
            if (opt.startsWith('upperdir=') && uid !== undefined && gid !== undefined)
              await lchown(opt.slice('upperdir='.length), uid, gid);
            options.push(opt);
          }
        }
        out.push({ ...m, options });
      } else if (m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind')) {
        out.push({ ...m, source: await idmap(m.source) });
      } else {
        out.push(m);
      }
    }
    return out;
  } catch (err) {
    for (const t of made.reverse()) await umount(t);
    throw err;
  }
}

/**
 * Unmounts the idmapped layers {@link idmapLayers} made under `dir` and removes their empty
 * mount points (rmdir only: a mount point still in use is never walked into).
 *
 * @throws BerthError IDMAP_FAILED when a mount point cannot be removed (so a caller does not go
 *   on to remove the directory recursively, into an image layer)
 */
export async function releaseIdmapLayers(dir: string): Promise<void> {
  // synchronous listing and rmdirs: every start and removal asks, and nearly always finds no
  // directory (two thread-pool round trips saved)
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  const removeDir = (path: string) => {
    try {
      rmdirSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new BerthError('IDMAP_FAILED', `idmapped layers ${dir}: still mounted or not empty`, {
        cause: err,
      });
    }
  };
  for (const name of names) {
    await umount(join(dir, name));
    removeDir(join(dir, name));
  }
  removeDir(dir);
}
