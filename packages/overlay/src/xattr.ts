// Extended attributes through @napi-rs/xattr (prebuilt N-API binaries shipped inside npm
// packages; it calls the l* variants, so symlinks are never followed). Node has no xattr API.
import { getAttributeSync, listAttributesSync, removeAttributeSync, setAttributeSync } from '@napi-rs/xattr';

/** lsetxattr(2): sets `name` on `path` itself (a symlink is not followed). */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  setAttributeSync(path, name, value);
}

/** llistxattr(2) then lgetxattr(2) for each: every xattr of `path` itself, name → bytes. */
export function lgetxattrs(path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of listAttributesSync(path)) {
    const v = getAttributeSync(path, name);
    if (v !== null) out.set(name, v);
  }
  return out;
}

/** lgetxattr(2) of one attribute, or null when `path` does not have it. */
export function lgetxattr(path: string, name: string): Buffer | null {
  return getAttributeSync(path, name);
}

/** lremovexattr(2). */
export function lremovexattr(path: string, name: string): void {
  removeAttributeSync(path, name);
}
