// Extended attributes through @napi-rs/xattr (prebuilt N-API binaries shipped inside npm
// packages; it calls the l* variants, so symlinks are never followed). Node has no xattr API.
// The addon is loaded on first use: mounting and removing snapshots (every `berth run`) never
// needs it, and loading it (resolve, read, dlopen) was ~5 ms of each run's CPU.
import { createRequire } from 'node:module';

type Xattr = typeof import('@napi-rs/xattr');
let addon: Xattr | undefined;

function xattr(): Xattr {
  addon ??= createRequire(import.meta.url)('@napi-rs/xattr') as Xattr;
  return addon;
}

/** lsetxattr(2): sets `name` on `path` itself (a symlink is not followed). */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  xattr().setAttributeSync(path, name, value);
}

/** llistxattr(2) then lgetxattr(2) for each: every xattr of `path` itself, name → bytes. */
export function lgetxattrs(path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const x = xattr();
  for (const name of x.listAttributesSync(path)) {
    const v = x.getAttributeSync(path, name);
    if (v !== null) out.set(name, v);
  }
  return out;
}

/** lgetxattr(2) of one attribute, or null when `path` does not have it. */
export function lgetxattr(path: string, name: string): Buffer | null {
  return xattr().getAttributeSync(path, name);
}

/** lremovexattr(2). */
export function lremovexattr(path: string, name: string): void {
  xattr().removeAttributeSync(path, name);
}
