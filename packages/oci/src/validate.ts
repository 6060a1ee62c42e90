/**
 * Shared checks for untrusted JSON documents (manifests, indexes, image configs). Every failure
 * names the field path (`layers[2].digest`) in the message and in `input.field`.
 * Internal: only the error codes and the size limit are re-exported from the package.
 */
import { type Digest, parseDigest } from './digest.js';
import { BerthError, isBerthError } from './errors.js';

/** Error codes raised when parsing image documents. */
export const ImageErrorCode = {
  /** A manifest or index is malformed: invalid JSON, wrong types, bad digests or sizes. */
  INVALID_MANIFEST: 'INVALID_MANIFEST',
  /** An image config is malformed. */
  INVALID_IMAGE_CONFIG: 'INVALID_IMAGE_CONFIG',
  /** A document is larger than the limit (4 MiB unless told). */
  MANIFEST_TOO_LARGE: 'MANIFEST_TOO_LARGE',
  /** A document type berth does not handle, such as Docker schema 1. */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
} as const;
/** Union of {@link ImageErrorCode} values. */
export type ImageErrorCode = (typeof ImageErrorCode)[keyof typeof ImageErrorCode];

/** Default size limit for manifests, indexes and configs: 4 MiB (distribution-spec's minimum). */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Options shared by the document parsers. */
export interface ParseDocumentOptions {
  /** Refuse documents larger than this many bytes (default {@link MAX_DOCUMENT_BYTES}). */
  maxBytes?: number;
}

/** A JSON object read from an untrusted document. */
export type JsonObject = Record<string, unknown>;

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
// RFC 6838 type/subtype, as image-spec's schema checks it.
const mediaTypeRe = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** Field path of `key` under `path`: `config.Env`, `annotations["org.x"]`. */
export function fieldPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!identifier.test(key)) return `${path === '$' ? '' : path}[${JSON.stringify(key)}]`;
  return path === '$' ? key : `${path}.${key}`;
}

/** Reads one document, failing with the document's own error code. */
export class Checker {
  /**
   * @param code - the code for malformed content
   * @param kind - what the document is, first word of every message (`manifest`, `image config`)
   */
  constructor(
    readonly code: 'INVALID_MANIFEST' | 'INVALID_IMAGE_CONFIG',
    readonly kind: string,
  ) {}

  /** Throws the document's error for `path`. */
  fail(path: string, why: string, cause?: unknown): never {
    const where = path === '$' ? '' : ` ${path}:`;
    throw new BerthError(this.code, `${this.kind}:${where} ${why}`, {
      input: { field: path },
      ...(cause === undefined ? {} : { cause }),
    });
  }

  /** Decodes UTF-8 JSON bytes within the size limit. */
  decode(bytes: Uint8Array | string, options: ParseDocumentOptions = {}): unknown {
    const max = options.maxBytes ?? MAX_DOCUMENT_BYTES;
    const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
    if (size > max) {
      throw new BerthError(
        ImageErrorCode.MANIFEST_TOO_LARGE,
        `${this.kind}: ${size} bytes is larger than the ${max}-byte limit`,
        { input: { field: '$' } },
      );
    }
    let text: string;
    if (typeof bytes === 'string') text = bytes;
    else {
      try {
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
      } catch (err) {
        return this.fail('$', 'invalid UTF-8', err);
      }
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      return this.fail('$', `invalid JSON: ${(err as Error).message}`, err);
    }
  }

  /** A JSON object (not null, not an array). */
  object(v: unknown, path: string): JsonObject {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      this.fail(path, `expected an object, got ${kindOf(v)}`);
    return v as JsonObject;
  }

  /** Reads `o[key]`, treating null as absent (and removing it, so callers see `undefined`). */
  opt(o: JsonObject, key: string): unknown {
    if (!Object.hasOwn(o, key)) return undefined;
    const v = o[key];
    if (v === null) {
      delete o[key];
      return undefined;
    }
    return v;
  }

  /** Reads a required `o[key]`. */
  req(o: JsonObject, key: string, path: string): unknown {
    const v = this.opt(o, key);
    if (v === undefined) this.fail(fieldPath(path, key), 'required field is missing');
    return v;
  }

  /** A string. */
  string(v: unknown, path: string, options: { noNul?: boolean } = {}): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${kindOf(v)}`);
    if (options.noNul && v.includes('\0')) this.fail(path, 'contains a NUL character');
    return v;
  }

  /** A boolean. */
  boolean(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected a boolean, got ${kindOf(v)}`);
    return v;
  }

  /** A non-negative safe integer (sizes, counts). */
  size(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v))
      this.fail(path, `expected an integer, got ${kindOf(v)}`);
    if (v < 0) this.fail(path, `must not be negative (${v})`);
    return v;
  }

  /** A safe integer, any sign. */
  integer(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v))
      this.fail(path, `expected an integer, got ${kindOf(v)}`);
    return v;
  }

  /** An array. */
  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${kindOf(v)}`);
    return v;
  }

  /** An array of strings. */
  strings(v: unknown, path: string, options: { noNul?: boolean } = {}): string[] {
    const a = this.array(v, path);
    a.forEach((s, i) => {
      this.string(s, fieldPath(path, i), options);
    });
    return a as string[];
  }

  /** An object whose values are strings (annotations, labels). */
  stringMap(v: unknown, path: string, options: { noNul?: boolean } = {}): Record<string, string> {
    const o = this.object(v, path);
    for (const [k, s] of Object.entries(o)) this.string(s, fieldPath(path, k), options);
    return o as Record<string, string>;
  }

  /** An object whose values are objects (`ExposedPorts`, `Volumes`: `{ "80/tcp": {} }`). */
  setMap(v: unknown, path: string, keyCheck?: (key: string) => string | undefined): Record<string, object> {
    const o = this.object(v, path);
    for (const [k, e] of Object.entries(o)) {
      const p = fieldPath(path, k);
      this.object(e, p);
      const bad = keyCheck?.(k);
      if (bad !== undefined) this.fail(p, bad);
    }
    return o as Record<string, object>;
  }

  /** A digest (sha256 or sha512). */
  digest(v: unknown, path: string): Digest {
    const s = this.string(v, path);
    try {
      return parseDigest(s);
    } catch (err) {
      if (!isBerthError(err, 'INVALID_DIGEST')) throw err;
      return this.fail(path, (err as Error).message, err);
    }
  }

  /** An RFC 6838 media type string. */
  mediaType(v: unknown, path: string): string {
    const s = this.string(v, path);
    if (!mediaTypeRe.test(s)) this.fail(path, `invalid media type ${JSON.stringify(s.slice(0, 200))}`);
    return s;
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'number') return Number.isInteger(v) ? `the number ${v}` : `the fraction ${v}`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
