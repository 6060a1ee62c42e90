/**
 * Content descriptors and platforms (image-spec v1.1 `descriptor.md`, `image-index.md`).
 */
import { type Digest, digestOf } from './digest.js';
import { Checker, fieldPath, type JsonObject } from './validate.js';

/** The platform an image or index entry is built for. */
export interface Platform {
  /** CPU architecture in Go's GOARCH terms: `amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`, `riscv64`. */
  architecture: string;
  /** Operating system in GOOS terms: `linux`, `windows`, `darwin`. */
  os: string;
  /** OS version (Windows builds, e.g. `10.0.17763.1879`). */
  'os.version'?: string;
  /** Required OS features (`win32k`). */
  'os.features'?: string[];
  /** CPU variant: `v7` for arm, `v8` for arm64, `v2`/`v3` for amd64 micro-architecture levels. */
  variant?: string;
  /** Reserved by image-spec. */
  features?: string[];
}

/** A reference to content: what it is, its digest and its size (image-spec `descriptor.md`). */
export interface Descriptor {
  /** Media type of the referenced content. */
  mediaType: string;
  /** Digest of the referenced content. */
  digest: Digest;
  /** Size of the referenced content in bytes. */
  size: number;
  /** Alternative download locations (foreign layers). */
  urls?: string[];
  /** Arbitrary metadata. */
  annotations?: Record<string, string>;
  /** Embedded content, base64; when present it is verified against `size` and `digest`. */
  data?: string;
  /** Platform, in index entries. */
  platform?: Platform;
  /** Artifact type of the referenced manifest (referrers API). */
  artifactType?: string;
}

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Checks an untrusted platform object at `path`. */
export function checkPlatform(c: Checker, v: unknown, path: string): Platform {
  const o = c.object(v, path);
  c.string(c.req(o, 'architecture', path), fieldPath(path, 'architecture'));
  c.string(c.req(o, 'os', path), fieldPath(path, 'os'));
  const version = c.opt(o, 'os.version');
  if (version !== undefined) c.string(version, fieldPath(path, 'os.version'));
  const osFeatures = c.opt(o, 'os.features');
  if (osFeatures !== undefined) c.strings(osFeatures, fieldPath(path, 'os.features'));
  const variant = c.opt(o, 'variant');
  if (variant !== undefined) c.string(variant, fieldPath(path, 'variant'));
  const features = c.opt(o, 'features');
  if (features !== undefined) c.strings(features, fieldPath(path, 'features'));
  return o as unknown as Platform;
}

/** Checks an untrusted descriptor at `path`, including embedded `data` against size and digest. */
export function checkDescriptor(c: Checker, v: unknown, path: string): Descriptor {
  const o: JsonObject = c.object(v, path);
  c.mediaType(c.req(o, 'mediaType', path), fieldPath(path, 'mediaType'));
  const digest = c.digest(c.req(o, 'digest', path), fieldPath(path, 'digest'));
  const size = c.size(c.req(o, 'size', path), fieldPath(path, 'size'));
  const urls = c.opt(o, 'urls');
  if (urls !== undefined) c.strings(urls, fieldPath(path, 'urls'));
  const annotations = c.opt(o, 'annotations');
  if (annotations !== undefined) c.stringMap(annotations, fieldPath(path, 'annotations'));
  const platform = c.opt(o, 'platform');
  if (platform !== undefined) checkPlatform(c, platform, fieldPath(path, 'platform'));
  const artifactType = c.opt(o, 'artifactType');
  if (artifactType !== undefined) c.mediaType(artifactType, fieldPath(path, 'artifactType'));
  const data = c.opt(o, 'data');
  if (data !== undefined) {
    const p = fieldPath(path, 'data');
    const s = c.string(data, p);
    if (!base64Re.test(s)) c.fail(p, 'not valid base64');
    const bytes = Buffer.from(s, 'base64');
    if (bytes.byteLength !== size)
      c.fail(p, `embedded data is ${bytes.byteLength} bytes, descriptor says ${size}`);
    const algorithm = digest.startsWith('sha512:') ? 'sha512' : 'sha256';
    const got = digestOf(bytes, { algorithm });
    if (got !== digest) c.fail(p, `embedded data has digest ${got}, descriptor says ${digest}`);
  }
  return o as unknown as Descriptor;
}

/**
 * Validates an untrusted descriptor (e.g. a `application/vnd.oci.descriptor.v1+json` document
 * already parsed from JSON). Throws `INVALID_MANIFEST` naming the field.
 */
export function parseDescriptor(value: unknown): Descriptor {
  return checkDescriptor(new Checker('INVALID_MANIFEST', 'descriptor'), value, '$');
}
