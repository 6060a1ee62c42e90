/**
 * Media types of OCI image-spec v1.1 (`media-types.md`) and of Docker's image manifest v2
 * schema 2, with helpers to classify them.
 */

/** Media type constants, OCI and Docker. */
export const MediaType = {
  /** OCI image index. */
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  /** OCI image manifest. */
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  /** OCI image config. */
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  /** OCI layer, uncompressed tar. */
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  /** OCI layer, gzip-compressed tar. */
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  /** OCI layer, zstd-compressed tar. */
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  /** OCI non-distributable layer, uncompressed (deprecated in image-spec 1.1). */
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  /** OCI non-distributable layer, gzip (deprecated in image-spec 1.1). */
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  /** OCI non-distributable layer, zstd (deprecated in image-spec 1.1). */
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  /** The empty descriptor's media type (`{}`, for artifacts without config). */
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  /** The `oci-layout` file of an image layout. */
  OciLayoutHeader: 'application/vnd.oci.layout.header.v1+json',
  /** A bare descriptor document. */
  OciDescriptor: 'application/vnd.oci.descriptor.v1+json',
  /** Docker image manifest v2, schema 2. */
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  /** Docker manifest list (multi-platform). */
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  /** Docker image config. */
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  /** Docker layer, gzip-compressed tar. */
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** Docker layer, uncompressed tar (used by containerd and `docker save`). */
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  /** Docker foreign layer, gzip (Windows base layers fetched from `urls`). */
  DockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  /** Docker schema 1 manifest (unsupported; recognised to refuse it clearly). */
  DockerSchema1Manifest: 'application/vnd.docker.distribution.manifest.v1+json',
  /** Docker schema 1 signed manifest (unsupported; recognised to refuse it clearly). */
  DockerSchema1SignedManifest: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;
/** Union of the {@link MediaType} constants. */
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

/** Media types of single-image manifests berth accepts. */
export type ManifestMediaType = typeof MediaType.OciManifest | typeof MediaType.DockerManifest;
/** Media types of indexes / manifest lists berth accepts. */
export type IndexMediaType = typeof MediaType.OciIndex | typeof MediaType.DockerManifestList;

/** How a layer blob is compressed. */
export type LayerCompression = 'none' | 'gzip' | 'zstd';

const layerCompressions: Readonly<Record<string, LayerCompression>> = {
  [MediaType.OciLayer]: 'none',
  [MediaType.OciLayerGzip]: 'gzip',
  [MediaType.OciLayerZstd]: 'zstd',
  [MediaType.OciLayerNondistributable]: 'none',
  [MediaType.OciLayerNondistributableGzip]: 'gzip',
  [MediaType.OciLayerNondistributableZstd]: 'zstd',
  [MediaType.DockerLayer]: 'none',
  [MediaType.DockerLayerGzip]: 'gzip',
  [MediaType.DockerLayerForeignGzip]: 'gzip',
};

/**
 * The media type without parameters, lowercased: `application/json; charset=utf-8` →
 * `application/json`. Use it on `Content-Type` headers before comparing.
 */
export function baseMediaType(mediaType: string): string {
  const semi = mediaType.indexOf(';');
  return (semi === -1 ? mediaType : mediaType.slice(0, semi)).trim().toLowerCase();
}

/** True for an OCI image manifest or a Docker v2 schema 2 manifest. */
export function isManifestType(mediaType: string | undefined): mediaType is ManifestMediaType {
  return mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest;
}

/** True for an OCI image index or a Docker manifest list. */
export function isIndexType(mediaType: string | undefined): mediaType is IndexMediaType {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/** True for an OCI or Docker image config. */
export function isConfigType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.OciConfig || mediaType === MediaType.DockerConfig;
}

/** True for Docker schema 1 manifests, which berth refuses. */
export function isSchema1Type(mediaType: string | undefined): boolean {
  return mediaType === MediaType.DockerSchema1Manifest || mediaType === MediaType.DockerSchema1SignedManifest;
}

/** True for a layer media type berth can unpack (a tar, plain or compressed). */
export function isLayerType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && Object.hasOwn(layerCompressions, mediaType);
}

/** True for non-distributable / foreign layers, which registries may not serve. */
export function isNondistributableLayerType(mediaType: string | undefined): boolean {
  return (
    mediaType === MediaType.OciLayerNondistributable ||
    mediaType === MediaType.OciLayerNondistributableGzip ||
    mediaType === MediaType.OciLayerNondistributableZstd ||
    mediaType === MediaType.DockerLayerForeignGzip
  );
}

/**
 * The compression of a layer media type: `'none'`, `'gzip'`, `'zstd'`, or `undefined` when the
 * media type is not a known layer type.
 */
export function layerCompression(mediaType: string | undefined): LayerCompression | undefined {
  if (mediaType === undefined || !Object.hasOwn(layerCompressions, mediaType)) return undefined;
  return layerCompressions[mediaType];
}
