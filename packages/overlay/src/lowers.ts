import { lstatSync, type Stats } from 'node:fs';
import { entryError } from './errors.js';
import { OVERLAY_OPAQUE_XATTR } from './paths.js';
import { lgetxattr } from './xattr.js';

const lstatOrNull = (p: string): Stats | null => {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
};

/** overlayfs: a whiteout is a character device 0:0. */
export const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

/**
 * What the merged view of the lower snapshots (top first, overlay order) holds at `rel`, for
 * a directory a layer needs but does not contain (an implicit parent): the lower directory's
 * stats when it is a directory, or null when the path is absent or not a directory. Follows
 * overlayfs's lookup: a whiteout or a non-directory hides everything below it, an opaque
 * directory hides deeper layers. Throws `LAYER_UNSAFE_PATH` when the merged path is, or passes
 * through, a symlink: writing under it would write through a symlink planted by an earlier layer.
 * @param lowers - lower `fs` directories, topmost first
 * @param rel - clean relative path
 * @param entry - the tar entry that needs it, for the error
 */
export function lowerDir(lowers: readonly string[], rel: string, entry: string): Stats | null {
  const parts = rel.split('/');
  for (const lower of lowers) {
    let opaqueAbove = false;
    let p = lower;
    for (let i = 0; i < parts.length; i++) {
      p = `${p}/${parts[i]}`;
      const st = lstatOrNull(p);
      if (st === null) break; // not in this layer: look in the next one, unless hidden
      if (isWhiteout(st)) return null;
      if (st.isSymbolicLink()) {
        throw entryError(
          'LAYER_UNSAFE_PATH',
          entry,
          `/${parts.slice(0, i + 1).join('/')} is a symlink in a lower layer; refusing to write through it`,
        );
      }
      if (!st.isDirectory()) return null;
      if (i === parts.length - 1) return st;
      if (lgetxattr(p, OVERLAY_OPAQUE_XATTR)?.toString() === 'y') opaqueAbove = true;
    }
    if (opaqueAbove) return null;
  }
  return null;
}
