/**
 * `--userns`, `--uidmap`, `--gidmap` (podman's flags) → user namespace maps. `--userns=auto`
 * takes a free range of host ids from the subordinate ids of user `containers` in /etc/subuid
 * and /etc/subgid, as podman does; a range is reserved in whole 65536-id blocks by creating
 * `<root>/userns/{uid,gid}/<first host id of the block>` with O_EXCL (holding the container ID),
 * so two processes creating containers at once never get overlapping ones, and freed with the
 * container.
 */
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { LinuxIDMapping } from '@berth/oci';
import { parseIdMappings } from '@berth/runtime';
import { invalidOption } from './errors.js';

/** The maps of a user namespace. */
export interface IdMappings {
  uidMappings: LinuxIDMapping[];
  gidMappings: LinuxIDMapping[];
}

/** What the flags ask for: no user namespace, fixed maps, or an automatic range. */
export type UsernsRequest =
  | { kind: 'host' }
  | { kind: 'maps'; maps: IdMappings }
  | { kind: 'auto'; size: number };

/** podman's default for --userns=auto without size= is the image's need; berth takes 65536. */
export const AUTO_USERNS_SIZE = 65536;
/** podman's subordinate-id user. */
export const SUBID_USER = 'containers';

/**
 * Parses the flags (podman's rules: `--gidmap` defaults to the `--uidmap` maps; `auto` takes
 * `size=N`, and neither it nor `host` combines with maps).
 *
 * @throws BerthError INVALID_OPTION naming the flag, INVALID_ID_MAPPING
 */
export function parseUserns(o: { userns?: string; uidmap?: string[]; gidmap?: string[] }): UsernsRequest {
  const mode = o.userns ?? '';
  const uid = o.uidmap ?? [];
  const gid = o.gidmap ?? [];
  if (gid.length && !uid.length) throw invalidOption('gidmap', '--gidmap needs --uidmap');
  if (mode !== '' && (uid.length || gid.length))
    throw invalidOption('userns', `--userns=${mode} conflicts with --uidmap and --gidmap`);
  if (mode === '' && uid.length) {
    const uidMappings = parseIdMappings(uid, 'uidmap');
    const gidMappings = gid.length ? parseIdMappings(gid, 'gidmap') : uidMappings.map((m) => ({ ...m }));
    return { kind: 'maps', maps: { uidMappings, gidMappings } };
  }
  if (mode === '' || mode === 'host') return { kind: 'host' };
  const auto = /^auto(?::(.*))?$/.exec(mode);
  if (!auto)
    throw invalidOption(
      'userns',
      `invalid --userns "${mode}": berth supports "host", "auto[:size=N]" and --uidmap`,
    );
  let size = AUTO_USERNS_SIZE;
  for (const opt of auto[1] ? auto[1].split(',') : []) {
    const m = /^size=(\d{1,10})$/.exec(opt);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 0xffffffff)
      throw invalidOption('userns', `--userns=auto: invalid option "${opt}" (expected size=N)`);
    size = Number(m[1]);
  }
  return { kind: 'auto', size };
}

/** The `name:start:count` ranges of `user` in an /etc/subuid-style text. */
export function subIdRanges(text: string, user: string): { start: number; count: number }[] {
  const out: { start: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const [name, start, count] = line.trim().split(':');
    if (name === user && /^\d+$/.test(start ?? '') && /^\d+$/.test(count ?? ''))
      out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

/** Ranges are handed out in whole blocks, so reservations of any size never overlap. */
export const AUTO_BLOCK = 65536;

/**
 * Reserves `ceil(size / AUTO_BLOCK)` consecutive free blocks inside one of `ranges` (block files
 * created with O_EXCL, in order: a race loser releases what it made and looks further) and
 * returns the first host id.
 */
async function reserve(
  dir: string,
  file: string,
  ranges: { start: number; count: number }[],
  size: number,
  id: string,
) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const blocks = Math.ceil(size / AUTO_BLOCK);
  for (const r of ranges) {
    const first = Math.ceil(r.start / AUTO_BLOCK) * AUTO_BLOCK;
    for (let start = first; start + blocks * AUTO_BLOCK <= r.start + r.count; start += AUTO_BLOCK) {
      const taken = new Set(await readdir(dir));
      const mine = Array.from({ length: blocks }, (_, k) => String(start + k * AUTO_BLOCK));
      if (mine.some((b) => taken.has(b))) continue;
      const made: string[] = [];
      try {
        for (const b of mine) {
          const fh = await open(join(dir, b), 'wx', 0o600);
          made.push(b);
          await fh.writeFile(`${id}\n`);
          await fh.close();
        }
        return start;
      } catch (err) {
        for (const b of made) await unlink(join(dir, b)).catch(() => {});
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
  throw invalidOption(
    'userns',
    `--userns=auto: no free range of ${size} ids left for user "${SUBID_USER}" in ${file}`,
  );
}

/**
 * Reserves a free range of `size` host uids and gids for container `id` (whole 65536-id blocks,
 * aligned, within the `containers` ranges of /etc/subuid and /etc/subgid) and returns the maps
 * `0:<start>:<size>`.
 *
 * @throws BerthError INVALID_OPTION when the files have no `containers` entry or no free range
 */
export async function allocateAuto(root: string, id: string, size: number): Promise<IdMappings> {
  const maps: LinuxIDMapping[][] = [];
  const made: string[] = [];
  try {
    for (const [kind, file] of [
      ['uid', '/etc/subuid'],
      ['gid', '/etc/subgid'],
    ] as const) {
      const ranges = subIdRanges(await readFile(file, 'utf8').catch(() => ''), SUBID_USER);
      if (!ranges.length)
        throw invalidOption(
          'userns',
          `--userns=auto: no subordinate ids for user "${SUBID_USER}" in ${file} (podman's rule: add e.g. "${SUBID_USER}:2147483647:2147483648")`,
        );
      const dir = join(root, 'userns', kind);
      const start = await reserve(dir, file, ranges, size, id);
      for (let b = 0; b < size; b += AUTO_BLOCK) made.push(join(dir, String(start + b)));
      maps.push([{ containerID: 0, hostID: start, size }]);
    }
  } catch (err) {
    for (const f of made) await unlink(f).catch(() => {});
    throw err;
  }
  return { uidMappings: maps[0]!, gidMappings: maps[1]! };
}

/** Frees the ranges {@link allocateAuto} reserved for a container. */
export async function releaseAuto(root: string, maps: IdMappings): Promise<void> {
  for (const [kind, m] of [
    ['uid', maps.uidMappings],
    ['gid', maps.gidMappings],
  ] as const)
    for (const x of m)
      for (let b = 0; b < x.size; b += AUTO_BLOCK)
        await unlink(join(root, 'userns', kind, String(x.hostID + b))).catch(() => {});
}
