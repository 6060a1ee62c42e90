// Documents produced by umoci and skopeo (see testdata/README.md), parsed as a puller would.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainId, digestOf } from './digest.js';
import { parseImageConfig } from './image-config.js';
import { parseImageDocument } from './image-document.js';
import { parseIndex } from './image-index.js';
import { parseManifest } from './manifest.js';
import { layerCompression, MediaType } from './media-types.js';

const testdata = join(import.meta.dirname, '..', 'testdata');
const read = (...p: string[]) => readFileSync(join(testdata, ...p));

describe('documents made by umoci (OCI)', () => {
  it('index → manifest → config, with digests matching', () => {
    const index = parseIndex(read('umoci', 'index.json'));
    const entry = index.manifests[0]!;
    expect(entry.annotations?.['org.opencontainers.image.ref.name']).toBe('t');
    const manifestBytes = read('umoci', 'manifest.json');
    expect(digestOf(manifestBytes)).toBe(entry.digest);
    expect(manifestBytes.byteLength).toBe(entry.size);
    const manifest = parseManifest(manifestBytes, { contentType: entry.mediaType });
    // umoci omits the optional mediaType; the document is returned as written.
    expect(manifest.mediaType).toBeUndefined();
    expect(parseImageDocument(manifestBytes, entry.mediaType).mediaType).toBe(MediaType.OciManifest);
    expect(layerCompression(manifest.layers[0]!.mediaType)).toBe('gzip');
    const configBytes = read('umoci', 'config.json');
    expect(digestOf(configBytes)).toBe(manifest.config.digest);
    const config = parseImageConfig(configBytes);
    expect(config.config?.Cmd).toEqual(['sh']);
    expect(config.config?.ExposedPorts).toEqual({ '80/tcp': {} });
    expect(chainId(config.rootfs.diff_ids)).toBe(config.rootfs.diff_ids[0]);
  });
});

describe('documents made by skopeo (Docker schema 2)', () => {
  it('manifest → config, with digests matching', () => {
    const bytes = read('skopeo-v2s2', 'manifest.json');
    const doc = parseImageDocument(bytes, MediaType.DockerManifest);
    expect(doc.kind).toBe('manifest');
    if (doc.kind !== 'manifest') return;
    expect(doc.mediaType).toBe(MediaType.DockerManifest);
    expect(doc.manifest.layers[0]!.mediaType).toBe(MediaType.DockerLayerGzip);
    const configBytes = read('skopeo-v2s2', 'config.json');
    expect(digestOf(configBytes)).toBe(doc.manifest.config.digest);
    expect(parseImageDocument(configBytes, MediaType.DockerConfig).kind).toBe('config');
  });
});
