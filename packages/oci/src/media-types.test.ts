import { describe, expect, it } from 'vitest';
import {
  baseMediaType,
  isConfigType,
  isIndexType,
  isLayerType,
  isManifestType,
  isNondistributableLayerType,
  isSchema1Type,
  layerCompression,
  MediaType,
} from './media-types.js';

describe('media types', () => {
  it('has the exact spec strings', () => {
    expect(MediaType.OciIndex).toBe('application/vnd.oci.image.index.v1+json');
    expect(MediaType.OciLayerZstd).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(MediaType.DockerManifestList).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    expect(MediaType.DockerLayerForeignGzip).toBe(
      'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
    );
  });

  it('classifies manifests, indexes, configs and schema1', () => {
    expect(isManifestType(MediaType.OciManifest)).toBe(true);
    expect(isManifestType(MediaType.DockerManifest)).toBe(true);
    expect(isManifestType(MediaType.OciIndex)).toBe(false);
    expect(isManifestType(undefined)).toBe(false);
    expect(isIndexType(MediaType.OciIndex)).toBe(true);
    expect(isIndexType(MediaType.DockerManifestList)).toBe(true);
    expect(isIndexType(MediaType.DockerManifest)).toBe(false);
    expect(isConfigType(MediaType.DockerConfig)).toBe(true);
    expect(isConfigType(MediaType.OciConfig)).toBe(true);
    expect(isConfigType(MediaType.OciEmpty)).toBe(false);
    expect(isSchema1Type(MediaType.DockerSchema1SignedManifest)).toBe(true);
    expect(isSchema1Type(MediaType.DockerManifest)).toBe(false);
  });

  it.each([
    [MediaType.OciLayer, 'none'],
    [MediaType.OciLayerGzip, 'gzip'],
    [MediaType.OciLayerZstd, 'zstd'],
    [MediaType.OciLayerNondistributable, 'none'],
    [MediaType.OciLayerNondistributableGzip, 'gzip'],
    [MediaType.OciLayerNondistributableZstd, 'zstd'],
    [MediaType.DockerLayer, 'none'],
    [MediaType.DockerLayerGzip, 'gzip'],
    [MediaType.DockerLayerForeignGzip, 'gzip'],
    [MediaType.OciConfig, undefined],
    ['application/vnd.in-toto+json', undefined],
    ['toString', undefined],
    ['__proto__', undefined],
    [undefined, undefined],
  ])('layerCompression(%s) = %s', (mt, want) => {
    expect(layerCompression(mt)).toBe(want);
    expect(isLayerType(mt)).toBe(want !== undefined);
  });

  it('knows non-distributable layers', () => {
    expect(isNondistributableLayerType(MediaType.DockerLayerForeignGzip)).toBe(true);
    expect(isNondistributableLayerType(MediaType.OciLayerNondistributableZstd)).toBe(true);
    expect(isNondistributableLayerType(MediaType.OciLayerGzip)).toBe(false);
  });

  it('strips parameters from a content type', () => {
    expect(baseMediaType('Application/JSON ; charset=utf-8')).toBe('application/json');
    expect(baseMediaType(MediaType.OciManifest)).toBe(MediaType.OciManifest);
  });
});
