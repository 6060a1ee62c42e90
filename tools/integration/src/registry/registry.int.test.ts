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
import { createRegistryClient, type OciLayout, type RegistryClient, toLayout } from '@berth/registry';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

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

  it('pushes a two-platform index and pulls each platform', async () => {
    const image = fixtures.images.multiarch;
    const info = image.gzip;
    if (info.kind !== 'index') throw new Error('multiarch fixture is not an index');
    const ref = `${registry.host}/berth/multiarch:1`;
    const pushed = await client.push(ref, toLayout(image.layout), { name: 'gzip' });
    expect(pushed.digest).toBe(info.digest);
    for (const m of info.manifests) {
      const platform = `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}`;
      const target = toLayout(join(work, platform.replace(/\//g, '-')));
      const events: string[] = [];
      const pulled = await client.pull(ref, target, { platform, onProgress: (e) => events.push(e.type) });
      expect(pulled.root.digest).toBe(info.digest);
      expect(pulled.manifest.digest).toBe(m.digest);
      expect(pulled.config.digest).toBe(m.config.digest);
      expect(events).toContain('platform');
      expect(await target.info(info.digest as Descriptor['digest'])).toBeDefined();
    }
    const err = await client
      .pull(ref, toLayout(join(work, 's390x')), { platform: 'linux/s390x' })
      .catch((e) => e);
    expect(isBerthError(err, 'PLATFORM_NOT_FOUND')).toBe(true);
  });

  it('uploads in chunks, mounts across repositories, and skips blobs the registry has', async () => {
    const image = fixtures.images.layers;
    const source = toLayout(image.layout);
    const phases = new Map<string, Set<string>>();
    const record = (e: { type: string; phase?: string; digest?: string }) => {
      if (e.type !== 'blob' || !e.digest || !e.phase) return;
      if (!phases.has(e.phase)) phases.set(e.phase, new Set());
      phases.get(e.phase)!.add(e.digest);
    };
    // Chunks of 64 KiB: the 1 MiB layer goes as 17 PATCH requests, the small ones in one PUT.
    const chunks: unknown[] = [];
    const logger = {
      debug: (msg: string, f?: unknown) => msg === 'uploaded chunk' && chunks.push(f),
      info() {},
      warn() {},
      error() {},
    };
    const chunking = createRegistryClient({
      logger,
      ...(registry.caPem ? { ca: registry.caPem } : {}),
      ...(registry.username
        ? { credentials: async () => ({ username: registry.username!, password: registry.password! }) }
        : {}),
    });
    const first = await chunking
      .push(`${registry.host}/berth/chunked:1`, source, {
        name: 'gzip',
        chunkSize: 64 * 1024,
        onProgress: record,
      })
      .finally(() => chunking.close());
    expect(first.digest).toBe(image.gzip.digest);
    expect(chunks).toHaveLength(Math.ceil(1056290 / (64 * 1024)));
    const target = toLayout(join(work, 'chunked'));
    await client.pull(`${registry.host}/berth/chunked:1`, target);
    expect(await closure(target, await target.resolve(`${registry.host}/berth/chunked:1`))).toHaveLength(
      (await closure(source, await source.resolve('gzip'))).length,
    );
    for (const d of await closure(source, await source.resolve('gzip')))
      expect(await sameBlob(source, target, d)).toBe(true);
    // A fresh client knows nothing: mountFrom names the repository holding the blobs.
    const other = createRegistryClient({
      ...(registry.caPem ? { ca: registry.caPem } : {}),
      ...(registry.username
        ? { credentials: async () => ({ username: registry.username!, password: registry.password! }) }
        : {}),
    });
    phases.clear();
    try {
      await other.push(`${registry.host}/berth/mounted:1`, source, {
        name: 'gzip',
        mountFrom: ['berth/chunked'],
        onProgress: record,
      });
    } finally {
      await other.close();
    }
    const m = image.gzip;
    if (m.kind !== 'manifest') throw new Error('layers fixture is not a manifest');
    for (const l of m.layers) expect(phases.get('mounted')?.has(l.digest)).toBe(true);
    expect(phases.get('uploading')).toBeUndefined();
    // Pushing again: every blob is already there.
    phases.clear();
    await client.push(`${registry.host}/berth/mounted:2`, source, { name: 'gzip', onProgress: record });
    for (const l of m.layers) expect(phases.get('exists')?.has(l.digest)).toBe(true);
  });

  it('lists tags across pages and deletes a manifest', async () => {
    const source = toLayout(fixtures.images.busybox.layout);
    const tags = ['a', 'b', 'c', 'd', 'e'];
    for (const t of tags) await client.push(`${registry.host}/berth/tags:${t}`, source, { name: 'gzip' });
    expect((await client.listTags(`${registry.host}/berth/tags`, { pageSize: 2 })).sort()).toEqual(tags);
    expect(await client.listTags(`${registry.host}/berth/tags`, { pageSize: 2, limit: 3 })).toHaveLength(3);
    expect(await client.catalog(registry.host, { pageSize: 1 })).toContain('berth/tags');
    const deleted = await client.deleteManifest(`${registry.host}/berth/tags:a`);
    expect(deleted).toBe(fixtures.images.busybox.gzip.digest);
    const err = await client.resolve(`${registry.host}/berth/tags:b`).catch((e) => e);
    expect(isBerthError(err, 'MANIFEST_UNKNOWN')).toBe(true);
    expect(err.status).toBe(404);
    const unknown = await client.listTags(`${registry.host}/berth/nothing-here`).catch((e) => e);
    expect(isBerthError(unknown, 'NAME_UNKNOWN')).toBe(true);
  });

  if (auth === 'basic') {
    it('refuses anonymous and wrong credentials with UNAUTHORIZED', async () => {
      const anonymous = createRegistryClient();
      const wrong = createRegistryClient({
        credentials: async () => ({ username: 'berth', password: 'wrong' }),
      });
      try {
        const a = await anonymous.resolve(`${registry.host}/berth/busybox:gzip`).catch((e) => e);
        expect(isBerthError(a, 'UNAUTHORIZED')).toBe(true);
        expect(a.status).toBe(401);
        expect(a.registry).toBe(registry.host);
        const w = await wrong.resolve(`${registry.host}/berth/busybox:gzip`).catch((e) => e);
        expect(isBerthError(w, 'UNAUTHORIZED')).toBe(true);
        await expect(
          anonymous.checkLogin({ registry: registry.host, username: 'berth', password: 'nope' }),
        ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
        await anonymous.checkLogin({
          registry: registry.host,
          username: registry.username!,
          password: registry.password!,
        });
      } finally {
        await anonymous.close();
        await wrong.close();
      }
    });
  }

  if (auth === 'tls') {
    it('fails with TLS_ERROR when the CA is not trusted', async () => {
      const untrusting = createRegistryClient({ retries: 0 });
      try {
        const err = await untrusting.resolve(`${registry.host}/berth/busybox:gzip`).catch((e) => e);
        expect(isBerthError(err, 'TLS_ERROR')).toBe(true);
      } finally {
        await untrusting.close();
      }
    });
  }
});
