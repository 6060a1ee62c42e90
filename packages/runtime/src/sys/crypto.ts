/**
 * `@berth/oci`'s {@link CryptoProvider} from the berth-sys addon (native/sys.c): SHA-256 by the
 * OpenSSL that the node binary carries, random bytes from getrandom(2). The addon is loaded on
 * the first call; a node that exports no OpenSSL SHA-256 leaves hashing to node:crypto.
 */
import type { CryptoProvider } from '@berth/oci';
import { errnoError, loadAddon } from './addon.js';

/** Hashing and randomness without node:crypto; `@berth/engine` installs it with `setCryptoProvider`. */
export const sysCryptoProvider: CryptoProvider = {
  sha256: (data) => loadAddon().sha256?.(data),
  randomFill(buf) {
    const e = loadAddon().randomFill(buf);
    if (e !== 0) throw errnoError(e, 'getrandom');
  },
};
