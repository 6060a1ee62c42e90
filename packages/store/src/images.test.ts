import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Digest, isBerthError, MediaType } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ContentStore, createContentStore } from './content.js';
import { createImageStore, type ImageStore, REF_NAME_ANNOTATION } from './images.js';
import { putBlob, writeTestImage } from './test-image.js';

const code = (c: string) => (e: unknown) => isBerthError(e, c);

describe('image store', () => {
  let root: string;
  let content: ContentStore;
  let images: ImageStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
    content = await createContentStore({ path: join(root, 'content') });
    images = await createImageStore({ content, path: join(root, 'images'), platform: 'linux/amd64' });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('tags into index.json with full normalised names and lists the image', async () => {
    const img = await writeTestImage(content, { layers: ['a', 'b'], labels: { team: 'x' } });
    await images.tag('busybox', img.manifest, { repoDigest: true });
    const index = JSON.parse(await readFile(join(root, 'content', 'index.json'), 'utf8'));
    expect(
      index.manifests.map((d: { annotations: Record<string, string> }) => d.annotations[REF_NAME_ANNOTATION]),
    ).toEqual(['docker.io/library/busybox:latest', `docker.io/library/busybox@${img.manifest.digest}`]);
    const list = await images.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id: img.config.digest,
      repoTags: ['docker.io/library/busybox:latest'],
      repoDigests: [`docker.io/library/busybox@${img.manifest.digest}`],
      dangling: false,
      created: '2024-01-01T00:00:00Z',
      platform: { os: 'linux', architecture: 'amd64' },
      labels: { team: 'x' },
      size: img.manifest.size + img.config.size + 2,
    });
    expect(list[0]?.diffIds).toEqual(img.layers.map((l) => l.digest));
  });

  it('lists newest first by creation instant (time zones compared as instants), undated last', async () => {
    const made = async (n: string, created: string) =>
      (await writeTestImage(content, { layers: ['one'], labels: { n }, created })).manifest;
    await images.tag('t:old', await made('old', '2023-06-01T00:00:00Z'));
    await images.tag('t:undated', await made('undated', 'not a time'));
    // 2024-01-01T01:30:00+02:00 is 2023-12-31T23:30:00Z: older than `mid`, though it sorts after it as text
    await images.tag('t:zoned', await made('zoned', '2024-01-01T01:30:00+02:00'));
    await images.tag('t:mid', await made('mid', '2024-01-01T00:00:00.5Z'));
    await images.tag('t:new', await made('new', '2025-02-03T04:05:06.123456789Z'));
    const order = (await images.list()).map((i) => i.labels.n);
    expect(order).toEqual(['new', 'mid', 'zoned', 'old', 'undated']);
  });

  it('tags many names at once, in order, and tags none when one target is missing', async () => {
    const a = await writeTestImage(content, { layers: ['one'], labels: { n: 'a' } });
    const b = await writeTestImage(content, { layers: ['one'], labels: { n: 'b' } });
    await images.tagAll([
      { name: 'app:a', desc: a.manifest },
      { name: 'app:b', desc: b.manifest },
      { name: 'app:latest', desc: a.manifest },
      { name: 'app:latest', desc: b.manifest },
    ]);
    const byTag = new Map((await images.list()).flatMap((i) => i.repoTags.map((t) => [t, i.id] as const)));
    expect(Object.fromEntries(byTag)).toEqual({
      'docker.io/library/app:a': a.config.digest,
      'docker.io/library/app:b': b.config.digest,
      'docker.io/library/app:latest': b.config.digest,
    });
    const absent = { ...a.manifest, digest: `sha256:${'0'.repeat(64)}` as Digest };
    await expect(
      images.tagAll([
        { name: 'other:1', desc: a.manifest },
        { name: 'other:2', desc: absent },
      ]),
    ).rejects.toSatisfy(code('BLOB_NOT_FOUND'));
    expect((await images.list()).flatMap((i) => i.repoTags).filter((t) => t.includes('other'))).toEqual([]);
  });

  it('finds images by docker lookup rules', async () => {
    const a = await writeTestImage(content, { layers: ['one'] });
    await images.tag('localhost:5000/app:1', a.manifest, { repoDigest: true });
    const id = a.config.digest;
    for (const q of [
      id,
      id.slice(7),
      id.slice(7, 19),
      id.slice(0, 12),
      'localhost:5000/app:1',
      `localhost:5000/app@${a.manifest.digest}`,
    ]) {
      expect((await images.get(q)).id, q).toBe(id);
    }
    await expect(images.get('localhost:5000/app')).rejects.toSatisfy(code('IMAGE_NOT_FOUND'));
    await expect(images.get('nothing:here')).rejects.toSatisfy(code('IMAGE_NOT_FOUND'));
    await expect(images.get('')).rejects.toSatisfy(code('IMAGE_NOT_FOUND'));
  });

  it('reports an ambiguous short ID', async () => {
    const ids: Digest[] = [];
    for (let i = 0; ids.length < 2 || ids[0]?.[7] !== ids[ids.length - 1]?.[7]; i++) {
      const img = await writeTestImage(content, { layers: [`l${i}`] });
      await images.tag(`app:${i}`, img.manifest);
      ids.push(img.config.digest);
      if (ids.filter((d) => d[7] === img.config.digest[7]).length === 2) break;
    }
    const last = ids[ids.length - 1] as Digest;
    await expect(images.get(last.slice(7, 8))).rejects.toSatisfy(code('IMAGE_AMBIGUOUS'));
  });

  it("keeps a moved tag's old image as dangling, and filters", async () => {
    const old = await writeTestImage(content, {
      layers: ['old'],
      labels: { v: '1' },
      created: '2023-01-01T00:00:00Z',
    });
    const neu = await writeTestImage(content, { layers: ['new'], labels: { v: '2' } });
    await images.tag('busybox:latest', old.manifest);
    await images.tag('busybox:latest', neu.manifest);
    await images.tag('other/app:2', neu.manifest);
    const list = await images.list();
    expect(list.map((i) => [i.id, i.dangling, i.repoTags])).toEqual([
      [neu.config.digest, false, ['docker.io/library/busybox:latest', 'docker.io/other/app:2']],
      [old.config.digest, true, []],
    ]);
    expect((await images.list({ filters: { dangling: true } })).map((i) => i.id)).toEqual([
      old.config.digest,
    ]);
    expect((await images.list({ filters: { label: ['v=1'] } })).map((i) => i.id)).toEqual([
      old.config.digest,
    ]);
    expect((await images.list({ filters: { label: ['v'] } })).length).toBe(2);
    const byRef = await images.list({ filters: { reference: ['busy*'] } });
    expect(byRef.map((i) => i.repoTags)).toEqual([['docker.io/library/busybox:latest']]);
    expect((await images.list({ filters: { reference: ['other/*:2'] } })).length).toBe(1);
    await expect(images.list({ filters: { reference: ['[x'] } })).rejects.toSatisfy(code('INVALID_FILTER'));
  });

  it('untags and removes like docker rmi', async () => {
    const img = await writeTestImage(content, { layers: ['x'] });
    await images.tag('a:1', img.manifest, { repoDigest: true });
    await images.tag('b:1', img.manifest);
    // By ID with tags in two repositories needs force.
    await expect(images.remove(img.config.digest.slice(7, 19))).rejects.toSatisfy(code('IMAGE_CONFLICT'));
    // By name: untag only while other tags remain.
    expect(await images.remove('b:1')).toEqual([{ untagged: 'docker.io/library/b:1' }]);
    // The last tag takes its repository digests along and deletes the image.
    expect(await images.remove('a:1')).toEqual([
      { untagged: 'docker.io/library/a:1' },
      { untagged: `docker.io/library/a@${img.manifest.digest}` },
      { deleted: img.config.digest },
    ]);
    expect(await images.list()).toEqual([]);
    await expect(images.remove('a:1')).rejects.toSatisfy(code('IMAGE_NOT_FOUND'));
  });

  it('refuses to remove an image in use without force', async () => {
    const img = await writeTestImage(content, { layers: ['used'] });
    await images.tag('used:1', img.manifest);
    const inUse = (id: Digest) => id === img.config.digest;
    await expect(images.remove('used:1', { inUse })).rejects.toSatisfy(code('IMAGE_CONFLICT'));
    expect(await images.remove('used:1', { inUse, force: true })).toEqual([
      { untagged: 'docker.io/library/used:1' },
      { deleted: img.config.digest },
    ]);
  });

  it('untag leaves a dangling image; remove by ID deletes it', async () => {
    const img = await writeTestImage(content, { layers: ['y'] });
    await images.tag('y:1', img.manifest);
    await images.untag('y:1');
    expect((await images.list()).map((i) => i.dangling)).toEqual([true]);
    await expect(images.untag('y:1')).rejects.toSatisfy(code('IMAGE_NOT_FOUND'));
    expect(await images.remove(img.config.digest)).toEqual([{ deleted: img.config.digest }]);
    expect(await images.entries()).toEqual([]);
  });

  it('resolves an index to the configured platform', async () => {
    const amd = await writeTestImage(content, { layers: ['amd'], architecture: 'amd64' });
    const arm = await writeTestImage(content, { layers: ['arm'], architecture: 'arm64' });
    const index = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const idx = await putBlob(content, MediaType.OciIndex, Buffer.from(JSON.stringify(index)));
    await images.tag('multi', idx);
    expect((await images.get('multi')).id).toBe(amd.config.digest);
    const armStore = await createImageStore({
      content,
      path: join(root, 'images-arm'),
      platform: 'linux/arm64',
    });
    expect((await armStore.get('multi')).id).toBe(arm.config.digest);
  });

  it('refuses bad names and targets with typed errors', async () => {
    const img = await writeTestImage(content, { layers: ['z'] });
    await expect(images.tag('Bad Name', img.manifest)).rejects.toSatisfy(code('INVALID_REFERENCE'));
    await expect(images.tag(`a:1@${img.manifest.digest}`, img.manifest)).rejects.toSatisfy(
      code('INVALID_REFERENCE'),
    );
    await expect(
      images.tag('a', { ...img.manifest, digest: img.layers[0]?.digest as Digest }),
    ).rejects.toThrow();
    const missing = { ...img.manifest, digest: `sha256:${'0'.repeat(64)}` as Digest };
    await expect(images.tag('a', missing)).rejects.toSatisfy(code('BLOB_NOT_FOUND'));
    expect(await images.entries()).toEqual([]);
  });

  it('rebuilds a lost or corrupt records cache from the blobs', async () => {
    const img = await writeTestImage(content, { layers: ['r'] });
    await images.tag('r:1', img.manifest);
    await writeFile(join(root, 'images', 'records.json'), '{not json');
    expect((await images.get('r:1')).id).toBe(img.config.digest);
    const cached = JSON.parse(await readFile(join(root, 'images', 'records.json'), 'utf8'));
    expect(Object.keys(cached.records)).toEqual([img.manifest.digest]);
  });

  it('refuses a tampered index.json with STORE_CORRUPT', async () => {
    await writeFile(join(root, 'content', 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"x"}]}');
    await expect(images.list()).rejects.toSatisfy(code('STORE_CORRUPT'));
  });

  it('serialises concurrent tags from many callers', async () => {
    const imgs = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => writeTestImage(content, { layers: [`c${i}`] })),
    );
    await Promise.all(imgs.map((img, i) => images.tag(`c:${i}`, img.manifest)));
    expect((await images.list()).length).toBe(6);
  });
});
