/**
 * Finding the berth-shim executable (node-pty's loadNativeModule pattern): an explicit path,
 * then this package's native/build/, then each directory of a PATH string. Packages read no
 * environment (STYLE.md), so the caller passes `$BERTH_SHIM` and `$PATH` in.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '@berth/oci';

/** Error codes thrown by {@link locateShim}. */
export const LocateShimErrorCode = { SHIM_NOT_FOUND: 'SHIM_NOT_FOUND' } as const;
/** Union of {@link LocateShimErrorCode} values. */
export type LocateShimErrorCode = (typeof LocateShimErrorCode)[keyof typeof LocateShimErrorCode];

/** The executable's file name. */
export const SHIM_NAME = 'berth-shim';

/** Where this package's build writes the shim (`make -C native`). Works from src/ and dist/. */
export const BUNDLED_SHIM_PATH = fileURLToPath(new URL(`../native/build/${SHIM_NAME}`, import.meta.url));

/** Options of {@link locateShim}. */
export interface LocateShimOptions {
  /** An explicit path, tried first (the engine passes `$BERTH_SHIM`). */
  shim?: string;
  /** A PATH-style list searched last (the engine passes `$PATH`). */
  searchPath?: string;
  /** Skip this package's own native/build/ (tests of the search order). */
  skipBundled?: boolean;
}

function executable(p: string): string | undefined {
  try {
    const st = statSync(p);
    if (!st.isFile()) return 'not a regular file';
    accessSync(p, constants.X_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

/**
 * Returns the absolute path of a usable berth-shim.
 *
 * @throws BerthError SHIM_NOT_FOUND listing every path tried and why it was refused
 */
export async function locateShim(opts: LocateShimOptions = {}): Promise<string> {
  const candidates: string[] = [];
  if (opts.shim) candidates.push(opts.shim);
  if (!opts.skipBundled) candidates.push(BUNDLED_SHIM_PATH);
  for (const dir of (opts.searchPath ?? '').split(delimiter))
    if (dir.startsWith('/')) candidates.push(join(dir, SHIM_NAME));
  const tried: string[] = [];
  for (const c of candidates) {
    if (!c.startsWith('/')) {
      tried.push(`${c} (not an absolute path)`);
      continue;
    }
    const why = executable(c);
    if (why === undefined) return c;
    tried.push(`${c} (${why})`);
  }
  throw new BerthError(
    'SHIM_NOT_FOUND',
    `berth-shim: not found; tried ${tried.length ? tried.join(', ') : 'nothing'}; build it with \`make -C native\` in @berth/runtime`,
  );
}
