import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import { isBerthError } from './errors.js';
import { parseIndex } from './image-index.js';
import { parseManifest } from './manifest.js';
import { MediaType } from './media-types.js';

// biome-ignore lint/suspicious/noExplicitAny: these tests mutate untyped, hostile JSON freely
type Json = Record<string, any>;

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

function dockerManifest(): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: { mediaType: MediaType.DockerConfig, size: 1457, digest: D1 },
    layers: [
      { mediaType: MediaType.DockerLayerGzip, size: 2152262, digest: D2 },
      { mediaType: MediaType.DockerLayerGzip, size: 32, digest: D3 },
    ],
  };
}

function ociManifest(): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: D1, size: 10 },
    layers: [
      { mediaType: MediaType.OciLayerGzip, digest: D2, size: 100 },
      {
        mediaType: MediaType.OciLayerZstd,
        digest: D3,
        size: 90,
        annotations: { 'org.opencontainers.image.title': 'x' },
      },
    ],
    annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
  };
}

const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

function failure(fn: () => unknown): { code: string; field?: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (!isBerthError(err)) throw err;
    const input = err.input as { field?: string } | undefined;
    return {
      code: err.code,
      message: err.message,
      ...(input?.field === undefined ? {} : { field: input.field }),
    };
  }
  throw new Error('expected a failure');
}

describe('parseManifest', () => {
  it('accepts a Docker schema 2 manifest', () => {
    const m = parseManifest(bytes(dockerManifest()), { contentType: MediaType.DockerManifest });
    expect(m.mediaType).toBe(MediaType.DockerManifest);
    expect(m.layers.map((l) => l.digest)).toEqual([D2, D3]);
  });

  it('accepts an OCI manifest, with or without mediaType, from a string or bytes', () => {
    expect(parseManifest(JSON.stringify(ociManifest())).layers).toHaveLength(2);
    const noType = ociManifest();
    delete noType.mediaType;
    expect(parseManifest(bytes(noType)).mediaType).toBeUndefined();
  });

  it('accepts an artifact manifest with subject, artifactType and the empty config', () => {
    const m = parseManifest(
      bytes({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: 'application/vnd.example.sbom.v1+json',
        config: { mediaType: MediaType.OciEmpty, digest: digestOf('{}'), size: 2, data: 'e30=' },
        layers: [],
        subject: { mediaType: MediaType.OciManifest, digest: D1, size: 500 },
      }),
    );
    expect(m.artifactType).toBe('application/vnd.example.sbom.v1+json');
    expect(m.subject?.digest).toBe(D1);
  });

  it('keeps unknown fields and unknown layer media types', () => {
    const v = ociManifest();
    v.extra = { x: 1 };
    (v.layers as Array<Record<string, unknown>>)[0]!.mediaType = 'application/vnd.example.unknown';
    const m = parseManifest(bytes(v)) as unknown as Record<string, unknown>;
    expect(m.extra).toEqual({ x: 1 });
  });

  it('treats null optional fields as absent', () => {
    const v = ociManifest();
    v.annotations = null;
    v.subject = null;
    const m = parseManifest(bytes(v));
    expect('annotations' in m).toBe(false);
    expect(m.subject).toBeUndefined();
  });

  const mutate = (f: (m: Json) => void) => {
    const m = ociManifest() as Json;
    f(m);
    return bytes(m);
  };

  it.each<[string, Buffer, string, string | undefined]>([
    ['not JSON', Buffer.from('{"schemaVersion": 2,'), 'INVALID_MANIFEST', '$'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'INVALID_MANIFEST', '$'],
    ['an array', bytes([]), 'INVALID_MANIFEST', '$'],
    ['null', bytes(null), 'INVALID_MANIFEST', '$'],
    ['no schemaVersion', mutate((m) => delete m.schemaVersion), 'INVALID_MANIFEST', 'schemaVersion'],
    ['schemaVersion 3', mutate((m) => (m.schemaVersion = 3)), 'INVALID_MANIFEST', 'schemaVersion'],
    ['schemaVersion "2"', mutate((m) => (m.schemaVersion = '2')), 'INVALID_MANIFEST', 'schemaVersion'],
    ['index mediaType', mutate((m) => (m.mediaType = MediaType.OciIndex)), 'INVALID_MANIFEST', 'mediaType'],
    [
      'unknown mediaType',
      mutate((m) => (m.mediaType = 'application/vnd.x+json')),
      'INVALID_MANIFEST',
      'mediaType',
    ],
    ['mediaType not a string', mutate((m) => (m.mediaType = 7)), 'INVALID_MANIFEST', 'mediaType'],
    ['no config', mutate((m) => delete m.config), 'INVALID_MANIFEST', 'config'],
    ['no layers', mutate((m) => delete m.layers), 'INVALID_MANIFEST', 'layers'],
    ['layers an object', mutate((m) => (m.layers = {})), 'INVALID_MANIFEST', 'layers'],
    ['layer a string', mutate((m) => (m.layers[1] = 'x')), 'INVALID_MANIFEST', 'layers[1]'],
    [
      'bad layer digest',
      mutate((m) => (m.layers[1].digest = 'sha256:abc')),
      'INVALID_MANIFEST',
      'layers[1].digest',
    ],
    [
      'uppercase digest',
      mutate((m) => (m.layers[0].digest = D2.toUpperCase())),
      'INVALID_MANIFEST',
      'layers[0].digest',
    ],
    ['negative size', mutate((m) => (m.layers[0].size = -1)), 'INVALID_MANIFEST', 'layers[0].size'],
    ['fractional size', mutate((m) => (m.layers[0].size = 1.5)), 'INVALID_MANIFEST', 'layers[0].size'],
    ['huge size', mutate((m) => (m.layers[0].size = 2 ** 60)), 'INVALID_MANIFEST', 'layers[0].size'],
    ['string size', mutate((m) => (m.config.size = '10')), 'INVALID_MANIFEST', 'config.size'],
    ['missing size', mutate((m) => delete m.config.size), 'INVALID_MANIFEST', 'config.size'],
    [
      'missing layer mediaType',
      mutate((m) => delete m.layers[0].mediaType),
      'INVALID_MANIFEST',
      'layers[0].mediaType',
    ],
    [
      'malformed media type',
      mutate((m) => (m.layers[0].mediaType = 'not a type')),
      'INVALID_MANIFEST',
      'layers[0].mediaType',
    ],
    [
      'annotation not a string',
      mutate((m) => (m.annotations['a.b'] = 1)),
      'INVALID_MANIFEST',
      'annotations["a.b"]',
    ],
    ['urls not strings', mutate((m) => (m.layers[0].urls = [1])), 'INVALID_MANIFEST', 'layers[0].urls[0]'],
    [
      'bad subject',
      mutate((m) => (m.subject = { mediaType: MediaType.OciManifest })),
      'INVALID_MANIFEST',
      'subject.digest',
    ],
    ['bad artifactType', mutate((m) => (m.artifactType = 5)), 'INVALID_MANIFEST', 'artifactType'],
    [
      'platform without os',
      mutate((m) => (m.config.platform = { architecture: 'amd64' })),
      'INVALID_MANIFEST',
      'config.platform.os',
    ],
    ['data not base64', mutate((m) => (m.config.data = '!!!!')), 'INVALID_MANIFEST', 'config.data'],
    ['data of wrong size', mutate((m) => (m.config.data = 'e30=')), 'INVALID_MANIFEST', 'config.data'],
  ])('refuses %s', (_name, input, code, field) => {
    const f = failure(() => parseManifest(input));
    expect(f.code).toBe(code);
    expect(f.field).toBe(field);
    if (field !== undefined && field !== '$') expect(f.message).toContain(field);
    expect(f.message.startsWith('manifest: ')).toBe(true);
  });

  it('refuses embedded data whose digest does not match', () => {
    const v = ociManifest() as Json;
    v.config = { mediaType: MediaType.OciEmpty, digest: D1, size: 2, data: 'e30=' };
    expect(failure(() => parseManifest(bytes(v)))).toMatchObject({
      code: 'INVALID_MANIFEST',
      field: 'config.data',
    });
  });

  it('refuses a mediaType that contradicts the content type', () => {
    const f = failure(() => parseManifest(bytes(dockerManifest()), { contentType: MediaType.OciManifest }));
    expect(f).toMatchObject({ code: 'INVALID_MANIFEST', field: 'mediaType' });
  });

  it('refuses documents over 4 MiB before parsing them', () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    expect(failure(() => parseManifest(big)).code).toBe('MANIFEST_TOO_LARGE');
    expect(failure(() => parseManifest(bytes(ociManifest()), { maxBytes: 10 })).code).toBe(
      'MANIFEST_TOO_LARGE',
    );
  });

  it('refuses Docker schema 1 as UNSUPPORTED_MEDIA_TYPE', () => {
    const schema1 = { schemaVersion: 1, name: 'library/busybox', tag: 'latest', fsLayers: [], history: [] };
    expect(failure(() => parseManifest(bytes(schema1))).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(
      failure(() =>
        parseManifest(bytes(ociManifest()), { contentType: MediaType.DockerSchema1SignedManifest }),
      ).code,
    ).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('does not let __proto__ keys pollute prototypes', () => {
    const raw = `{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"${D1}","size":1},"layers":[],"annotations":{"__proto__":"x"}}`;
    const m = parseManifest(raw);
    expect(Object.getPrototypeOf(m.annotations)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('parseIndex', () => {
  const list = {
    schemaVersion: 2,
    mediaType: MediaType.DockerManifestList,
    manifests: [
      {
        mediaType: MediaType.DockerManifest,
        digest: D1,
        size: 528,
        platform: { architecture: 'amd64', os: 'linux' },
      },
      {
        mediaType: MediaType.DockerManifest,
        digest: D2,
        size: 528,
        platform: { architecture: 'arm', os: 'linux', variant: 'v7' },
      },
      {
        mediaType: MediaType.DockerManifest,
        digest: D3,
        size: 528,
        platform: {
          architecture: 'amd64',
          os: 'windows',
          'os.version': '10.0.17763.1879',
          'os.features': ['win32k'],
        },
      },
    ],
  };

  it('accepts a Docker manifest list and an OCI index', () => {
    expect(parseIndex(bytes(list)).manifests).toHaveLength(3);
    const oci = { ...list, mediaType: MediaType.OciIndex, annotations: { a: 'b' } };
    expect(
      parseIndex(bytes(oci), { contentType: `${MediaType.OciIndex}; charset=utf-8` }).annotations,
    ).toEqual({
      a: 'b',
    });
  });

  it.each<[string, unknown, string]>([
    ['manifests missing', { schemaVersion: 2 }, 'manifests'],
    ['manifest mediaType', { ...list, mediaType: MediaType.OciManifest }, 'mediaType'],
    ['bad entry size', { ...list, manifests: [{ ...list.manifests[0], size: -5 }] }, 'manifests[0].size'],
    [
      'bad platform',
      {
        ...list,
        manifests: [list.manifests[0], { ...list.manifests[1], platform: { os: 'linux', architecture: 7 } }],
      },
      'manifests[1].platform.architecture',
    ],
    [
      'bad os.features',
      {
        ...list,
        manifests: [
          { ...list.manifests[2], platform: { os: 'windows', architecture: 'amd64', 'os.features': 'x' } },
        ],
      },
      'manifests[0].platform["os.features"]',
    ],
  ])('refuses %s', (_name, value, field) => {
    const f = failure(() => parseIndex(bytes(value)));
    expect(f).toMatchObject({ code: 'INVALID_MANIFEST', field });
    expect(f.message.startsWith('index: ')).toBe(true);
  });
});
