/**
 * Loads `native/build/berth-sys.node` once (node-pty's `loadNativeModule`: fail loudly, naming
 * where it looked). N-API is ABI-stable, so the one build of `pnpm build` serves every Node 20+.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';
import { BerthError } from '@berth/oci';
import { SysErrorCode } from './errors.js';

/** The addon's functions (native/sys.c); each returns 0 or an errno. */
export interface Addon {
  flock(fd: number, op: number): number;
  flockAsync(fd: number, op: number): Promise<number>;
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): number;
  umount2(target: string, flags: number): number;
}

/** Where the addon is: beside `src/` and `dist/` alike. */
export const ADDON_PATH = fileURLToPath(new URL('../native/build/berth-sys.node', import.meta.url));

let addon: Addon | undefined;

/**
 * The addon.
 * @throws BerthError SYS_ADDON_NOT_FOUND when it is not built (run `pnpm build`) or cannot load
 */
export function loadAddon(): Addon {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (cause) {
    throw new BerthError(
      SysErrorCode.SYS_ADDON_NOT_FOUND,
      `berth-sys addon: cannot load ${ADDON_PATH} (build it with \`make -C native\` in @berth/sys): ${(cause as Error).message}`,
      { cause },
    );
  }
  return addon;
}

/** `ENOENT: no such file or directory`, from an errno. */
export function errnoText(errno: number): string {
  const e = getSystemErrorMap().get(-errno);
  return e ? `${e[0]}: ${e[1]}` : `errno ${errno}`;
}
