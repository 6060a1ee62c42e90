/**
 * The SHA-256 and random bytes every package needs on its hot paths (record file names, snapshot
 * keys, container IDs and names, temp names, a config blob's digest check). By default they come
 * from node:crypto, required on first use. An application may install a {@link CryptoProvider}
 * instead, once, at start-up: `@berth/engine` installs `@berth/runtime`'s (OpenSSL's SHA-256 from
 * the node binary and getrandom(2), through the berth-sys addon), because loading node:crypto
 * (with the 17 stream modules it requires and OpenSSL's provider set-up) was ~3 ms of every
 * `berth run`. This module does no I/O itself; `@berth/oci` imports nothing of ours.
 */
import type * as NodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * Another source of SHA-256 and randomness. Both must be the real thing: a SHA-256 that gives
 * the standard digest, and random bytes from a CSPRNG (the kernel's).
 */
export interface CryptoProvider {
  /** The SHA-256 of `data` (32 bytes), or `undefined` when this provider has none (node:crypto then). */
  sha256(data: Uint8Array): Uint8Array | undefined;
  /** Fills `buf` with cryptographically secure random bytes; throws when it cannot. */
  randomFill(buf: Uint8Array): void;
}

let provider: CryptoProvider | undefined;

/** Installs (or, with `undefined`, removes) the process's {@link CryptoProvider}. */
export function setCryptoProvider(p: CryptoProvider | undefined): void {
  provider = p;
}

let nodeCrypto: typeof NodeCrypto | undefined;
/**
 * node:crypto, required on first use (Node 20 has no `process.getBuiltinModule`). A built-in
 * resolves from any path: `import.meta.url` is empty where this module is bundled into CommonJS,
 * so `/` stands in.
 */
export function loadNodeCrypto(): typeof NodeCrypto {
  nodeCrypto ??= createRequire(import.meta.url ?? '/')('node:crypto') as typeof NodeCrypto;
  return nodeCrypto;
}

/** The SHA-256 of `data` (a string is hashed as UTF-8), as 32 bytes. */
export function sha256(data: Uint8Array | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const d = provider?.sha256(bytes);
  if (d !== undefined) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return loadNodeCrypto().createHash('sha256').update(bytes).digest();
}

/** `n` cryptographically secure random bytes (node:crypto's `randomBytes`, or the provider's). */
export function randomBytes(n: number): Buffer {
  if (!provider) return loadNodeCrypto().randomBytes(n);
  const b = Buffer.alloc(n);
  provider.randomFill(b);
  return b;
}

/**
 * A uniformly distributed random integer in `[0, max)` (node:crypto's `randomInt(max)`), for
 * `max` from 1 to 2^32: 32-bit draws, and a draw in the last partial range of size `2^32 mod max`
 * is redrawn so that no value is likelier than another.
 */
export function randomInt(max: number): number {
  if (!Number.isInteger(max) || max < 1 || max > 2 ** 32)
    throw new RangeError(`randomInt: max must be an integer from 1 to 2^32, got ${max}`);
  if (!provider) return loadNodeCrypto().randomInt(max);
  const limit = 2 ** 32 - (2 ** 32 % max);
  for (;;) {
    const x = randomBytes(4).readUInt32BE(0);
    if (x < limit) return x % max;
  }
}
