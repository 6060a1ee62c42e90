import { describe, expect, it } from 'vitest';
import { isBerthError } from './errors.js';
import { parseImageDocument } from './image-document.js';
import { MediaType } from './media-types.js';

const D = `sha256:${'5'.repeat(64)}`;
const manifest = {
  schemaVersion: 2,
  config: { mediaType: MediaType.OciConfig, digest: D, size: 1 },
  layers: [],
};
const index = { schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, digest: D, size: 1 }] };
const json = (v: unknown) => JSON.stringify(v);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBerthError(err) ? err.code : 'non-berth';
  }
  return undefined;
}

describe('parseImageDocument', () => {
  it('uses the content type when it names an image type', () => {
    const doc = parseImageDocument(
      json({ ...manifest, mediaType: MediaType.DockerManifest }),
      MediaType.DockerManifest,
    );
    expect(doc.kind).toBe('manifest');
    expect(doc.mediaType).toBe(MediaType.DockerManifest);
    const idx = parseImageDocument(json(index), `${MediaType.OciIndex}; charset=utf-8`);
    expect(idx.kind === 'index' && idx.index.manifests.length).toBe(1);
  });

  it('falls back to the declared mediaType, then to the shape', () => {
    expect(
      parseImageDocument(json({ ...index, mediaType: MediaType.DockerManifestList }), 'application/json'),
    ).toMatchObject({
      kind: 'index',
      mediaType: MediaType.DockerManifestList,
    });
    expect(parseImageDocument(json(manifest))).toMatchObject({
      kind: 'manifest',
      mediaType: MediaType.OciManifest,
    });
    expect(parseImageDocument(json(index), 'application/octet-stream')).toMatchObject({
      kind: 'index',
      mediaType: MediaType.OciIndex,
    });
  });

  it('parses configs when the content type says so', () => {
    const doc = parseImageDocument(
      json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D] } }),
      MediaType.DockerConfig,
    );
    expect(doc.kind === 'config' && doc.config.rootfs.diff_ids).toEqual([D]);
  });

  it('refuses schema 1, unknown documents and mismatches', () => {
    expect(codeOf(() => parseImageDocument(json({ schemaVersion: 1, fsLayers: [] })))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(codeOf(() => parseImageDocument(json(manifest), MediaType.DockerSchema1Manifest))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(codeOf(() => parseImageDocument(json({ schemaVersion: 2 })))).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(codeOf(() => parseImageDocument(json({ ...manifest, mediaType: 'application/vnd.x+json' })))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(
      codeOf(() =>
        parseImageDocument(json({ ...index, mediaType: MediaType.OciIndex }), MediaType.OciManifest),
      ),
    ).toBe('INVALID_MANIFEST');
    expect(codeOf(() => parseImageDocument('[1]'))).toBe('INVALID_MANIFEST');
    expect(codeOf(() => parseImageDocument('x'.repeat(10), undefined, { maxBytes: 5 }))).toBe(
      'MANIFEST_TOO_LARGE',
    );
  });
});
