/**
 * Image indexes (OCI image-spec v1.1 `image-index.md`) and Docker manifest lists.
 */
import { checkDescriptor, type Descriptor } from './descriptor.js';
import { checkTop } from './manifest.js';
import { type IndexMediaType, isIndexType } from './media-types.js';
import { Checker, fieldPath, type ParseDocumentOptions } from './validate.js';

/** A multi-platform index or Docker manifest list. */
export interface Index {
  /** Always 2. */
  schemaVersion: 2;
  /** OCI index or Docker manifest list; OCI allows it to be absent. */
  mediaType?: IndexMediaType;
  /** Type of an artifact index. */
  artifactType?: string;
  /** The manifests (or nested indexes), usually with `platform`. */
  manifests: Descriptor[];
  /** The manifest this one refers to (referrers API). */
  subject?: Descriptor;
  /** Arbitrary metadata (`org.opencontainers.image.ref.name` in an image layout). */
  annotations?: Record<string, string>;
}

/** Options for {@link parseIndex}. */
export interface ParseIndexOptions extends ParseDocumentOptions {
  /** The `Content-Type` it was served with; checked against the document's `mediaType`. */
  contentType?: string;
}

/** Checks a parsed, untrusted value as an index. */
export function checkIndex(value: unknown, contentType?: string): Index {
  const c = new Checker('INVALID_MANIFEST', 'index');
  const o = c.object(value, '$');
  const mediaType = checkTop(c, o, contentType);
  if (mediaType !== undefined && !isIndexType(mediaType)) {
    c.fail('mediaType', `${mediaType} is not an image index media type`);
  }
  const artifactType = c.opt(o, 'artifactType');
  if (artifactType !== undefined) c.mediaType(artifactType, 'artifactType');
  c.array(c.req(o, 'manifests', '$'), 'manifests').forEach((m, i) => {
    checkDescriptor(c, m, fieldPath('manifests', i));
  });
  const subject = c.opt(o, 'subject');
  if (subject !== undefined) checkDescriptor(c, subject, 'subject');
  const annotations = c.opt(o, 'annotations');
  if (annotations !== undefined) c.stringMap(annotations, 'annotations');
  return o as unknown as Index;
}

/**
 * Parses and validates untrusted index / manifest list bytes. Throws `MANIFEST_TOO_LARGE`,
 * `UNSUPPORTED_MEDIA_TYPE` (schema 1) or `INVALID_MANIFEST` naming the field (`manifests[1].size`).
 */
export function parseIndex(bytes: Uint8Array | string, options: ParseIndexOptions = {}): Index {
  const c = new Checker('INVALID_MANIFEST', 'index');
  return checkIndex(c.decode(bytes, options), options.contentType);
}
