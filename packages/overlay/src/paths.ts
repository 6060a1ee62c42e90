import { entryError } from './errors.js';

/** image-spec layer.md: a file whose name starts with this deletes NAME from the lower layers. */
export const WHITEOUT_PREFIX = '.wh.';
/** image-spec layer.md: this entry makes its directory opaque (lower children hidden). */
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** overlayfs: the xattr marking an opaque directory. */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
/** overlayfs keeps its own metadata under this xattr prefix; never taken from or put into a layer. */
export const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';

/**
 * Cleans a tar entry name into a relative path with no `.` components and no trailing slash
 * (`''` is the layer root, for an entry `./`). Refuses, naming the entry: NUL anywhere, an
 * absolute path, and any `..` component. Docker cleans `a/../b` into `b` and strips a leading `/`;
 * berth refuses both instead, because no tool that writes layers produces them and refusing cannot
 * be tricked (README, hostile input).
 * @param name - the entry name exactly as the tar header (or PAX `path`) gives it
 * @throws LAYER_INVALID_ENTRY
 */
export function cleanEntryPath(name: string): string {
  if (name.includes('\0')) throw entryError('LAYER_INVALID_ENTRY', name, 'name contains NUL');
  if (name === '') throw entryError('LAYER_INVALID_ENTRY', name, 'empty name');
  if (name.startsWith('/')) throw entryError('LAYER_INVALID_ENTRY', name, 'absolute path');
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw entryError('LAYER_INVALID_ENTRY', name, "path has a '..' component");
    out.push(part);
  }
  return out.join('/');
}

/**
 * Cleans a hardlink target the same way as {@link cleanEntryPath} (tar hardlink names are
 * relative to the layer root); the error names the entry that holds the link.
 * @param entry - the hardlink entry's own name, for the error
 * @param target - its link name
 * @throws LAYER_INVALID_ENTRY, LAYER_UNSAFE_PATH for a target outside the root
 */
export function cleanLinkTarget(entry: string, target: string): string {
  if (target.includes('\0')) throw entryError('LAYER_INVALID_ENTRY', entry, 'link target contains NUL');
  if (target.startsWith('/') || target.split('/').includes('..')) {
    throw entryError(
      'LAYER_UNSAFE_PATH',
      entry,
      `hardlink target ${JSON.stringify(target)} is outside the layer`,
    );
  }
  const clean = cleanEntryPath(target);
  if (clean === '') throw entryError('LAYER_UNSAFE_PATH', entry, 'hardlink to the layer root');
  return clean;
}

/** Splits a clean relative path into its parent (`''` for top level) and base name. */
export function splitPath(rel: string): { parent: string; base: string } {
  const i = rel.lastIndexOf('/');
  return i < 0 ? { parent: '', base: rel } : { parent: rel.slice(0, i), base: rel.slice(i + 1) };
}

/** Every ancestor of a clean relative path, shallowest first (`a/b/c` → `a`, `a/b`). */
export function ancestors(rel: string): string[] {
  const out: string[] = [];
  let i = rel.indexOf('/');
  while (i >= 0) {
    out.push(rel.slice(0, i));
    i = rel.indexOf('/', i + 1);
  }
  return out;
}

/** Joins a root directory and a clean relative path. */
export function under(root: string, rel: string): string {
  return rel === '' ? root : `${root}/${rel}`;
}
