/**
 * Parses a document fetched by digest or tag when its kind is not known in advance: a registry's
 * `GET /v2/<name>/manifests/<ref>` answer may be a manifest or an index.
 */
import { BerthError } from './errors.js';
import { checkImageConfig, type ImageConfig } from './image-config.js';
import { checkIndex, type Index } from './image-index.js';
import { checkManifest, type Manifest, refuseSchema1 } from './manifest.js';
import {
  baseMediaType,
  type IndexMediaType,
  isConfigType,
  isIndexType,
  isManifestType,
  isSchema1Type,
  type ManifestMediaType,
  MediaType,
} from './media-types.js';
import { Checker, ImageErrorCode, type ParseDocumentOptions } from './validate.js';

/** A parsed document, by kind. */
export type ImageDocument =
  | { kind: 'manifest'; mediaType: ManifestMediaType; manifest: Manifest }
  | { kind: 'index'; mediaType: IndexMediaType; index: Index }
  | { kind: 'config'; mediaType: string; config: ImageConfig };

/** Options for {@link parseImageDocument}. */
export type ParseImageDocumentOptions = ParseDocumentOptions;

/**
 * Parses untrusted bytes as a manifest, an index or (when `contentType` says so) an image config.
 * The kind comes from `contentType` when it is a known image type, else from the document's
 * `mediaType`, else from its shape (`manifests` → index, `config` + `layers` → manifest). Generic
 * content types (`application/json`, `application/octet-stream`) are ignored. Throws
 * `UNSUPPORTED_MEDIA_TYPE` for Docker schema 1 or an unrecognisable document, otherwise the
 * errors of {@link parseManifest}, {@link parseIndex} and {@link parseImageConfig}.
 */
export function parseImageDocument(
  bytes: Uint8Array | string,
  contentType?: string,
  options: ParseImageDocumentOptions = {},
): ImageDocument {
  const ct = contentType === undefined ? undefined : baseMediaType(contentType);
  if (ct !== undefined && isConfigType(ct)) {
    const value = new Checker('INVALID_IMAGE_CONFIG', 'image config').decode(bytes, options);
    return { kind: 'config', mediaType: ct, config: checkImageConfig(value) };
  }
  const c = new Checker('INVALID_MANIFEST', 'image document');
  const value = c.decode(bytes, options);
  const o = c.object(value, '$');
  const known = ct !== undefined && (isManifestType(ct) || isIndexType(ct)) ? ct : undefined;
  const declared = typeof o.mediaType === 'string' ? o.mediaType : undefined;
  if (isSchema1Type(ct) || isSchema1Type(declared) || o.schemaVersion === 1) refuseSchema1('image document');
  const kind = known ?? declared;
  if (isManifestType(kind) || (kind === undefined && 'config' in o && 'layers' in o)) {
    const manifest = checkManifest(o, known);
    return { kind: 'manifest', mediaType: manifest.mediaType ?? MediaType.OciManifest, manifest };
  }
  if (isIndexType(kind) || (kind === undefined && 'manifests' in o)) {
    const index = checkIndex(o, known);
    return { kind: 'index', mediaType: index.mediaType ?? MediaType.OciIndex, index };
  }
  throw new BerthError(
    ImageErrorCode.UNSUPPORTED_MEDIA_TYPE,
    `image document: ${kind === undefined ? 'cannot tell whether it is a manifest or an index' : `unsupported media type ${JSON.stringify(kind.slice(0, 200))}`}`,
    { input: { field: 'mediaType' } },
  );
}
