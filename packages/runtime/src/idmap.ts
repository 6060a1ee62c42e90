/**
 * User namespace maps as users write them, and idmapped mounts: how a rootfs made of image
 * layers owned by host root looks owned by a container's root without copying or chowning it.
 */
import { execFile } from 'node:child_process';
import { BerthError, type LinuxIDMapping } from '@berth/oci';
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
