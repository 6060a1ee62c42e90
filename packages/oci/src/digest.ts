/**
 * Content digests per the OCI image-spec (`descriptor.md`, registered algorithms): `sha256`
 * (64 lowercase hex) and `sha512` (128 lowercase hex). Hashing uses node:crypto; no I/O.
 */
import type { Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { loadNodeCrypto, sha256 } from './crypto.js';
import { BerthError, InternalError } from './errors.js';

/** Error codes raised by digest parsing and verification. */
export const DigestErrorCode = {
  /** A string is not a valid, supported digest. */
  INVALID_DIGEST: 'INVALID_DIGEST',
  /** Content hashed to a different digest than expected. */
  DIGEST_MISMATCH: 'DIGEST_MISMATCH',
  /** Content had a different length than expected. */
  SIZE_MISMATCH: 'SIZE_MISMATCH',
} as const;
/** Union of {@link DigestErrorCode} values. */
export type DigestErrorCode = (typeof DigestErrorCode)[keyof typeof DigestErrorCode];

/** The digest algorithms berth accepts (the ones image-spec registers). */
export type DigestAlgorithm = 'sha256' | 'sha512';

/** A validated digest string, `algorithm:hex`. Obtain one from {@link parseDigest} or {@link digestOf}. */
export type Digest = `${DigestAlgorithm}:${string}`;

/** A hash of node:crypto, which `./crypto.js` requires on first use. */
function createHash(algorithm: DigestAlgorithm): Hash {
  return loadNodeCrypto().createHash(algorithm);
}

const hexLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const algorithmSyntax = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;

/** Options for {@link parseDigest}. */
export interface ParseDigestOptions {
  /** Field path named in the error (`layers[2].digest`), when the digest came from a document. */
  field?: string;
}

function show(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}

/**
 * Validates `s` as a digest and returns it typed. Throws `INVALID_DIGEST` naming the input for an
 * unsupported algorithm, a wrong length, uppercase or non-hex characters.
 *
 * @example
 * ```ts
 * parseDigest('sha256:' + 'a'.repeat(64)); // 'sha256:aaaa…'
 * ```
 */
export function parseDigest(s: string, options: ParseDigestOptions = {}): Digest {
  const where = options.field === undefined ? 'digest' : options.field;
  const input = options.field === undefined ? undefined : { field: options.field };
  const fail = (why: string): never => {
    throw new BerthError(
      DigestErrorCode.INVALID_DIGEST,
      `${where} ${show(s)}: ${why}`,
      input ? { input } : {},
    );
  };
  if (typeof s !== 'string') return fail('not a string');
  const colon = s.indexOf(':');
  if (colon <= 0 || colon === s.length - 1) return fail('invalid digest format');
  const algorithm = s.slice(0, colon);
  const encoded = s.slice(colon + 1);
  if (!algorithmSyntax.test(algorithm)) return fail('invalid digest format');
  if (algorithm !== 'sha256' && algorithm !== 'sha512')
    return fail(`unsupported digest algorithm ${algorithm}`);
  if (encoded.length !== hexLength[algorithm]) {
    return fail(`invalid checksum digest length (${algorithm} needs ${hexLength[algorithm]} hex characters)`);
  }
  if (!/^[a-f0-9]+$/.test(encoded)) return fail('invalid checksum digest format (lowercase hex expected)');
  return s as Digest;
}

/** Tells whether `s` is a valid, supported digest. */
export function isDigest(s: unknown): s is Digest {
  if (typeof s !== 'string') return false;
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** Splits a digest into its algorithm and hex part (e.g. for `blobs/<alg>/<hex>` paths). */
export function splitDigest(digest: Digest): { algorithm: DigestAlgorithm; encoded: string } {
  const d = parseDigest(digest);
  const colon = d.indexOf(':');
  return { algorithm: d.slice(0, colon) as DigestAlgorithm, encoded: d.slice(colon + 1) };
}

/** Options for {@link digestOf} and {@link createDigester}. */
export interface DigestOptions {
  /** Hash algorithm; `sha256` unless told. */
  algorithm?: DigestAlgorithm;
}

/** Hashes bytes (or a UTF-8 string) and returns the digest. */
export function digestOf(bytes: Uint8Array | string, options: DigestOptions = {}): Digest {
  const algorithm = options.algorithm ?? 'sha256';
  // sha256 through ./crypto.js: the installed provider's when there is one
  if (algorithm === 'sha256') return `sha256:${sha256(bytes).toString('hex')}`;
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Incremental hashing of a stream of chunks. */
export interface Digester {
  /** Bytes hashed so far. */
  readonly size: number;
  /** Adds a chunk. */
  update(chunk: Uint8Array): void;
  /** The digest of everything hashed; the digester cannot be used afterwards. */
  digest(): Digest;
}

/** Creates a {@link Digester} (hash content whose digest is not known yet, e.g. when pushing). */
export function createDigester(options: DigestOptions = {}): Digester {
  const algorithm = options.algorithm ?? 'sha256';
  const hash = createHash(algorithm);
  let size = 0;
  let done = false;
  return {
    get size() {
      return size;
    },
    update(chunk) {
      if (done) throw new InternalError('digester: update after digest()');
      hash.update(chunk);
      size += chunk.byteLength;
    },
    digest() {
      if (done) throw new InternalError('digester: digest() called twice');
      done = true;
      return `${algorithm}:${hash.digest('hex')}`;
    },
  };
}

/** What a verifier checks content against. */
export interface VerifierOptions {
  /** Expected digest; its algorithm is the one used. */
  digest: Digest;
  /** Expected size in bytes; when omitted only the digest is checked. */
  size?: number;
}

/** Checks a stream of chunks against an expected digest and size. */
export interface Verifier {
  /** Bytes seen so far. */
  readonly received: number;
  /** Adds a chunk; throws `SIZE_MISMATCH` as soon as more bytes arrive than expected. */
  update(chunk: Uint8Array): void;
  /**
   * Finishes: throws `SIZE_MISMATCH` when fewer bytes arrived than expected, `DIGEST_MISMATCH`
   * when the content hashed to another digest. Returns the verified digest.
   */
  verify(): Digest;
}

function sizeMismatch(digest: Digest, expected: number, got: string): BerthError<'SIZE_MISMATCH'> {
  return new BerthError(
    DigestErrorCode.SIZE_MISMATCH,
    `blob ${digest}: size mismatch (expected ${expected} bytes, got ${got})`,
  );
}

/**
 * Creates a streaming {@link Verifier}. An overrun is reported by `update` at the chunk that
 * crosses the expected size, so a hostile server cannot make the caller read unbounded data.
 *
 * @example
 * ```ts
 * const v = createVerifier({ digest, size });
 * for await (const chunk of body) v.update(chunk);
 * v.verify();
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const digest = parseDigest(options.digest);
  const size = options.size;
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new BerthError(DigestErrorCode.SIZE_MISMATCH, `blob ${digest}: invalid expected size ${size}`);
  }
  const algorithm = digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
  const hash: Hash = createHash(algorithm);
  let received = 0;
  let done = false;
  return {
    get received() {
      return received;
    },
    update(chunk) {
      if (done) throw new InternalError(`verifier for ${digest}: update after verify()`);
      received += chunk.byteLength;
      if (size !== undefined && received > size) {
        done = true;
        throw sizeMismatch(digest, size, `at least ${received}`);
      }
      hash.update(chunk);
    },
    verify() {
      if (done) throw new InternalError(`verifier for ${digest}: verify() called twice`);
      done = true;
      if (size !== undefined && received !== size) throw sizeMismatch(digest, size, String(received));
      const got = `${algorithm}:${hash.digest('hex')}`;
      if (got !== digest) {
        throw new BerthError(
          DigestErrorCode.DIGEST_MISMATCH,
          `blob ${digest}: digest mismatch (expected ${digest}, got ${got})`,
        );
      }
      return digest;
    },
  };
}

/**
 * A pass-through `Transform` that verifies what flows through it: the stream errors with
 * `SIZE_MISMATCH` at the first byte past `size`, and at the end with `SIZE_MISMATCH` or
 * `DIGEST_MISMATCH`. Pipe a download through it before it reaches its destination.
 *
 * @example
 * ```ts
 * await pipeline(response.body, verifyingStream({ digest, size }), fileStream);
 * ```
 */
export function verifyingStream(options: VerifierOptions): Transform {
  const verifier = createVerifier(options);
  return new Transform({
    transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      try {
        verifier.update(bytes);
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null, bytes);
    },
    flush(callback: TransformCallback) {
      try {
        verifier.verify();
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback();
    },
  });
}

/**
 * The chain IDs of a layer stack (image-spec `config.md`): `ChainID(L0) = DiffID(L0)` and
 * `ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))`. Returns one per layer, base first;
 * an empty list gives an empty list. Throws `INVALID_DIGEST` for a malformed diff ID.
 */
export function chainIds(diffIds: readonly string[]): Digest[] {
  const out: Digest[] = [];
  diffIds.forEach((raw, i) => {
    const diffId = parseDigest(raw, { field: `rootfs.diff_ids[${i}]` });
    const prev = out[i - 1];
    out.push(prev === undefined ? diffId : digestOf(`${prev} ${diffId}`));
  });
  return out;
}

/**
 * The chain ID of the whole stack (the last of {@link chainIds}), which keys the top snapshot.
 * An empty stack has no chain ID; passing one is a bug (`INTERNAL`).
 */
export function chainId(diffIds: readonly string[]): Digest {
  const last = chainIds(diffIds).at(-1);
  if (last === undefined) throw new InternalError('chain id: empty layer list');
  return last;
}
