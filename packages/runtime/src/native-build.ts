/**
 * Where `make -C native` writes this package's native parts (berth-shim, berth-init,
 * berth-sys.node), seen from this module: `src/` and the one-file `dist/index.js` both sit one
 * level below the package, so the same relative URL works from either.
 */
import { fileURLToPath } from 'node:url';

/** This package's `native/build/` directory. */
export const NATIVE_BUILD_DIR = fileURLToPath(new URL('../native/build/', import.meta.url));
