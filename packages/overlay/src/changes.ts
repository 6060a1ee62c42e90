/**
 * What changed in an active snapshot against its parent, as `docker diff` lists it: `A` added,
 * `C` changed, `D` deleted, in the order of a lexical walk of the change set (moby
 * pkg/archive/changes.go `changes`, its overlay variant): a directory that exists below with
 * the same size, mode and mtime is not a change itself, but the parent of an added or deleted
 * path is recorded as changed (after it) unless it already was.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { BerthError, type Mount } from '@berth/oci';
import { isWhiteout } from './lowers.js';
import { OVERLAY_OPAQUE_XATTR } from './paths.js';
import { lgetxattr } from './xattr.js';

/** One change, the Engine API's `FilesystemChange` (`Kind`: 0 modified, 1 added, 2 deleted). */
export interface Change {
  /** Absolute path inside the container. */
  path: string;
  kind: 'A' | 'C' | 'D';
}

/** Options of {@link snapshotChanges}. */
export interface ChangesOptions {
  /** The active snapshot's mounts (an overlay with `upperdir`, or a bind of a full copy). */
  upper: readonly Mount[];
  /** For a bind `upper`: the parent's mounts (a view); absent = compared with an empty tree. */
  lower?: readonly Mount[];
  /**
   * Paths (absolute, `/etc/hosts`) the caller created itself as mount points: they are not
   * listed when added, and the mtime they gave their directory is not a change of it (docker
   * keeps these in its `-init` layer, so `docker diff` never shows them).
   */
  mountpoints?: readonly string[];
}

const lstatOrNull = (p: string): Stats | null => {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
};

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** What the lowers (topmost first) show at `rel`, overlayfs's lookup: whiteouts and opaque dirs hide. */
function lowerStat(lowers: readonly string[], rel: string): (Stats & { path: string }) | null {
  const parts = rel.split('/');
  for (const lower of lowers) {
    let p = lower;
    let opaque = false;
    for (let i = 0; i < parts.length; i++) {
      p = `${p}/${parts[i]}`;
      const st = lstatOrNull(p);
      if (st === null) break;
      if (isWhiteout(st)) return null;
      if (i === parts.length - 1) return Object.assign(st, { path: p });
      if (!st.isDirectory()) return null;
      if (lgetxattr(p, OVERLAY_OPAQUE_XATTR)?.toString() === 'y') opaque = true;
    }
    if (opaque) return null;
  }
  return null;
}

/** Whether every component of `rel` in `layer` is a real directory (no symlink followed on the host). */
function layerDir(layer: string, rel: string): boolean {
  let p = layer;
  for (const part of rel.split('/')) {
    p = `${p}/${part}`;
    if (!lstatOrNull(p)?.isDirectory()) return false;
  }
  return true;
}

/** Whether a non-directory differs from the lower one (metadata, link target, size, content). */
function differs(u: Stats, l: Stats, ua: string, la: string): boolean {
  if (u.mode !== l.mode || u.uid !== l.uid || u.gid !== l.gid || u.rdev !== l.rdev) return true;
  if (u.isSymbolicLink()) return readlinkSync(ua) !== readlinkSync(la);
  if (u.size !== l.size) return true;
  if (u.mtimeMs === l.mtimeMs) return false;
  return !u.isFile() || !readFileSync(ua).equals(readFileSync(la));
}

/**
 * Lists the changes of an active snapshot against its parent.
 * @throws SNAPSHOT_INVALID_STATE when the mounts are not an active snapshot's
 */
export function snapshotChanges(options: ChangesOptions): Change[] {
  const upper = options.upper.length === 1 ? options.upper[0] : undefined;
  const opt = (m: Mount, k: string) => m.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  const hidden = new Set((options.mountpoints ?? []).map((p) => p.replace(/^\/+/, '').replace(/\/+$/, '')));
  const out: Change[] = [];
  const changedDirs = new Set<string>();
  // directories whose mtime moved only maybe because of a mount point: where they would have
  // been listed, had the move been the user's (a change below then puts them there)
  const maybeChanged = new Map<string, number>();
  const record = (rel: string, kind: Change['kind']) => {
    out.push({ path: `/${rel}`, kind });
    if (kind === 'A' || kind === 'D') {
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      if (parent !== '' && !changedDirs.has(parent)) {
        const at = maybeChanged.get(parent);
        if (at === undefined) out.push({ path: `/${parent}`, kind: 'C' });
        else {
          out.splice(at, 0, { path: `/${parent}`, kind: 'C' });
          for (const [k, v] of maybeChanged) if (v >= at && k !== parent) maybeChanged.set(k, v + 1);
          maybeChanged.delete(parent);
        }
        changedDirs.add(parent);
      }
    }
  };

  if (upper?.type === 'overlay' && opt(upper, 'upperdir') !== undefined) {
    const root = opt(upper, 'upperdir') as string;
    const lowers = (opt(upper, 'lowerdir') ?? '').split(':').filter((l) => l !== '');
    const walk = (rel: string): void => {
      const dir = rel === '' ? root : `${root}/${rel}`;
      const names = readdirSync(dir).sort(byteOrder);
      for (const name of names) {
        const crel = rel === '' ? name : `${rel}/${name}`;
        const abs = `${dir}/${name}`;
        const st = lstatSync(abs);
        if (isWhiteout(st)) {
          record(crel, 'D');
          continue;
        }
        const low = lowerStat(lowers, crel);
        if (low === null && hidden.has(crel) && (st.isDirectory() || (st.isFile() && st.size === 0)))
          continue;
        let kind: Change['kind'] | undefined = low === null ? 'A' : 'C';
        if (low && st.isDirectory() && low.isDirectory()) {
          const subHides = readdirSync(abs).some((n) => hidden.has(`${crel}/${n}`));
          if (st.mode === low.mode && (st.mtimeMs === low.mtimeMs || subHides)) kind = undefined;
          if (kind === undefined && st.mtimeMs !== low.mtimeMs) maybeChanged.set(crel, out.length);
        } else if (low && !st.isDirectory() && !low.isDirectory()) {
          // a copy-up with nothing changed (metadata-only open) is not a change
          if (!differs(st, low, abs, low.path)) kind = undefined;
        }
        if (kind) record(crel, kind);
        if (st.isDirectory()) {
          if (kind) changedDirs.add(crel);
          // an opaque directory replaced everything below it
          if (low?.isDirectory() && lgetxattr(abs, OVERLAY_OPAQUE_XATTR)?.toString() === 'y') {
            const mine = new Set(readdirSync(abs));
            for (const l of lowers) {
              for (const n of (layerDir(l, crel) ? readdirSync(`${l}/${crel}`) : []).sort(byteOrder))
                if (!mine.has(n) && lowerStat(lowers, `${crel}/${n}`)) record(`${crel}/${n}`, 'D');
            }
          }
          walk(crel);
        }
      }
    };
    walk('');
    return out;
  }
  if (upper?.type === 'bind') {
    const lower = options.lower?.length === 1 ? options.lower[0] : undefined;
    if (options.lower && lower?.type !== 'bind')
      throw new BerthError(
        'SNAPSHOT_INVALID_STATE',
        'changes: the lower mounts must be one bind mount (a view)',
        {
          input: { field: 'lower' },
        },
      );
    const walk = (rel: string): void => {
      const ua = rel === '' ? upper.source : `${upper.source}/${rel}`;
      // the lower side only through real directories: never a symlink followed on the host
      const la =
        lower && (rel === '' || layerDir(lower.source, rel))
          ? rel === ''
            ? lower.source
            : `${lower.source}/${rel}`
          : null;
      const names = new Set(readdirSync(ua));
      const lowerNames = la && lstatOrNull(la)?.isDirectory() ? readdirSync(la) : [];
      const all = [...new Set([...names, ...lowerNames])].sort(byteOrder);
      for (const name of all) {
        const crel = rel === '' ? name : `${rel}/${name}`;
        if (!names.has(name)) {
          record(crel, 'D');
          continue;
        }
        const cu = `${ua}/${name}`;
        const st = lstatSync(cu);
        const cl = la === null ? null : `${la}/${name}`;
        const low = cl === null ? null : lstatOrNull(cl);
        if (low === null && hidden.has(crel) && (st.isDirectory() || (st.isFile() && st.size === 0)))
          continue;
        let kind: Change['kind'] | undefined = low === null ? 'A' : 'C';
        if (low && st.isDirectory() && low.isDirectory()) {
          const subHides = readdirSync(cu).some(
            (n) => hidden.has(`${crel}/${n}`) && !lstatOrNull(`${cl}/${n}`),
          );
          if (st.mode === low.mode && (st.mtimeMs === low.mtimeMs || subHides)) kind = undefined;
          if (kind === undefined && st.mtimeMs !== low.mtimeMs) maybeChanged.set(crel, out.length);
        } else if (low && !st.isDirectory() && !low.isDirectory() && !differs(st, low, cu, cl as string)) {
          kind = undefined;
        }
        if (kind) record(crel, kind);
        if (st.isDirectory()) {
          if (kind) changedDirs.add(crel);
          walk(crel);
        }
      }
    };
    walk('');
    return out;
  }
  throw new BerthError(
    'SNAPSHOT_INVALID_STATE',
    'changes: the upper mounts are not those of an active snapshot',
    {
      input: { field: 'upper' },
    },
  );
}
