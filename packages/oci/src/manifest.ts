/**
 * Image manifests: OCI image-spec v1.1 `manifest.md` and Docker image manifest v2 schema 2.
 */

import { checkDescriptor, type Descriptor } from './descriptor.js';
import { BerthError } from './errors.js';
import {
  baseMediaType,
  isIndexType,
  isManifestType,
  isSchema1Type,
  type ManifestMediaType,
} from './media-types.js';
import {
  Checker,
  fieldPath,
  ImageErrorCode,
  type JsonObject,
  type ParseDocumentOptions,
} from './validate.js';

/** A single-platform image manifest (OCI or Docker schema 2). */
export interface Manifest {
  /** Always 2. */
  schemaVersion: 2;
  /** OCI manifest or Docker schema 2 manifest; OCI allows it to be absent. */
  mediaType?: ManifestMediaType;
  /** Type of an artifact (required by image-spec when `config` is the empty descriptor). */
  artifactType?: string;
  /** The image config (or an artifact's config blob). */
  config: Descriptor;
  /** Layers, base first. */
  layers: Descriptor[];
  /** The manifest this one refers to (referrers API). */
  subject?: Descriptor;
  /** Arbitrary metadata. */
  annotations?: Record<string, string>;
}

/** Options for {@link parseManifest}. */
export interface ParseManifestOptions extends ParseDocumentOptions {
  /** The `Content-Type` it was served with; checked against the document's `mediaType`. */
  contentType?: string;
}

/** Throws `UNSUPPORTED_MEDIA_TYPE` for Docker schema 1. */
export function refuseSchema1(kind: string): never {
  throw new BerthError(
    ImageErrorCode.UNSUPPORTED_MEDIA_TYPE,
    `${kind}: docker image manifest v2 schema 1 is not supported (deprecated by docker; push the image again with a current client)`,
    { input: { field: 'schemaVersion' } },
  );
}

/** Checks the common top of manifests and indexes: schemaVersion, mediaType vs content type. */
export function checkTop(c: Checker, o: JsonObject, contentType: string | undefined): string | undefined {
  const ct = contentType === undefined ? undefined : baseMediaType(contentType);
  const schemaVersion = c.opt(o, 'schemaVersion');
  const rawMediaType = c.opt(o, 'mediaType');
  if (
    schemaVersion === 1 ||
    isSchema1Type(ct) ||
    (typeof rawMediaType === 'string' && isSchema1Type(rawMediaType))
  ) {
    refuseSchema1(c.kind);
  }
  if (schemaVersion === undefined) c.fail('schemaVersion', 'required field is missing');
  if (schemaVersion !== 2) c.fail('schemaVersion', `must be 2, got ${JSON.stringify(schemaVersion)}`);
  const mediaType = rawMediaType === undefined ? undefined : c.mediaType(rawMediaType, 'mediaType');
  if (
    mediaType !== undefined &&
    ct !== undefined &&
    (isManifestType(ct) || isIndexType(ct)) &&
    mediaType !== ct
  ) {
    c.fail('mediaType', `${mediaType} does not match the content type ${ct}`);
  }
  return mediaType ?? (ct !== undefined && (isManifestType(ct) || isIndexType(ct)) ? ct : undefined);
}

/** Checks a parsed, untrusted value as a manifest. */
export function checkManifest(value: unknown, contentType?: string): Manifest {
  const c = new Checker('INVALID_MANIFEST', 'manifest');
  const o = c.object(value, '$');
  const mediaType = checkTop(c, o, contentType);
  if (mediaType !== undefined && !isManifestType(mediaType)) {
    c.fail('mediaType', `${mediaType} is not an image manifest media type`);
  }
  const artifactType = c.opt(o, 'artifactType');
  if (artifactType !== undefined) c.mediaType(artifactType, 'artifactType');
  checkDescriptor(c, c.req(o, 'config', '$'), 'config');
  c.array(c.req(o, 'layers', '$'), 'layers').forEach((l, i) => {
    checkDescriptor(c, l, fieldPath('layers', i));
  });
  const subject = c.opt(o, 'subject');
  if (subject !== undefined) checkDescriptor(c, subject, 'subject');
  const annotations = c.opt(o, 'annotations');
  if (annotations !== undefined) c.stringMap(annotations, 'annotations');
  return o as unknown as Manifest;
}

/**
 * Parses and validates untrusted manifest bytes. Throws `MANIFEST_TOO_LARGE` over 4 MiB,
 * `UNSUPPORTED_MEDIA_TYPE` for Docker schema 1, and `INVALID_MANIFEST` naming the field
 * (`layers[2].digest`) for anything malformed. Unknown fields are kept; unknown layer media
 * types are allowed (the unpacker decides).
 */
export function parseManifest(bytes: Uint8Array | string, options: ParseManifestOptions = {}): Manifest {
  const c = new Checker('INVALID_MANIFEST', 'manifest');
  return checkManifest(c.decode(bytes, options), options.contentType);
}
