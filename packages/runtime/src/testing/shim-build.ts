/**
 * Test helper: builds berth-shim with `make -C native` (the package's build) and returns its
 * path. Tests call it in beforeAll so they run against the current C sources.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BUNDLED_SHIM_PATH } from '../locate-shim.js';

/** The package's native/ directory. */
export const NATIVE_DIR = fileURLToPath(new URL('../../native', import.meta.url));

/** Builds the shim (a no-op when it is up to date) and returns its path. */
export function buildShim(): string {
  execFileSync('make', ['-s', '-C', NATIVE_DIR], { stdio: ['ignore', 'ignore', 'inherit'] });
  return BUNDLED_SHIM_PATH;
}
