import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import {
  buildFixtures,
  type ExpectedTree,
  type FixtureSet,
  fixtureLayers,
  readTree,
  sha256Digest as sha256,
  tarOf,
  withoutTimes,
} from '@berth/fixtures';
import {
  createSnapshotter,
  type Snapshotter,
  type SnapshotterDriver,
  unpackLayer,
  unpackLayers,
} from '@berth/overlay';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountTracker } from './mounts.js';

let fixtures: FixtureSet;
const roots: string[] = [];
const mounts_ = mountTracker();

beforeAll(async () => {
  fixtures = await buildFixtures();
});

afterEach(async () => {
  await mounts_.releaseAll();
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

/** The tree a container on `top` sees: prepared, mounted under `root`, read, unmounted. */
async function containerTree(
  sn: Snapshotter,
  top: string | undefined,
  root: string,
): Promise<ReturnType<typeof readTree>> {
  const target = await mounts_.at(await sn.prepare('container', top), `${root}/rootfs`);
  const seen = readTree(target);
  await mounts_.release(target);
  return seen;
}

async function tempRoot(): Promise<string> {
  const r = await mkdtemp(`${tmpdir()}/berth-t${process.pid}-`);
  roots.push(r);
  return r;
}

describe('applyLayer on the fixture images', () => {
  const cases: ['busybox' | 'layers', 'gzip' | 'zstd', SnapshotterDriver][] = [];
  for (const image of ['busybox', 'layers'] as const)
    for (const variant of ['gzip', 'zstd'] as const)
      for (const driver of ['overlay', 'copy'] as const) cases.push([image, variant, driver]);

  it.each(cases)('%s:%s with the %s driver gives the expected tree', async (name, variant, driver) => {
    const image = fixtures.images[name];
    const expected = JSON.parse(await readFile(image.expectedTree!, 'utf8')) as ExpectedTree;
    const root = await tempRoot();
    const sn = createSnapshotter({ root: `${root}/snap`, driver });
    let parent: string | undefined;
    for (const layer of fixtureLayers(image, variant)) {
      const r = await unpackLayer({
        snapshotter: sn,
        ...(parent === undefined ? {} : { parent }),
        stream: layer.open() as never,
        mediaType: layer.mediaType,
        diffId: layer.diffId,
        digest: layer.digest,
      });
      expect(r.applied?.diffId).toBe(layer.diffId);
      expect(r.applied?.digest).toBe(layer.digest);
      expect(r.applied?.compression).toBe(variant);
      parent = r.chainId;
    }
    const seen = await containerTree(sn, parent, root);

    expect(withoutTimes(seen)).toEqual(expected.entries);
    for (const [path, node] of Object.entries(seen))
      expect([path, node.mtime]).toEqual([path, expected.mtime]);
    // every committed snapshot and the container are recorded; nothing else is on disk
    const all = await sn.walk();
    expect(all.filter((s) => s.kind === 'committed')).toHaveLength(fixtureLayers(image, variant).length);
    expect(all.filter((s) => s.kind === 'active').map((s) => s.name)).toEqual(['container']);
    expect(await sn.cleanup()).toBe(0);
  });

  it.each(cases)(
    '%s:%s with the %s driver, all layers in one unpackLayers',
    async (name, variant, driver) => {
      const image = fixtures.images[name];
      const expected = JSON.parse(await readFile(image.expectedTree!, 'utf8')) as ExpectedTree;
      const root = await tempRoot();
      const sn = createSnapshotter({ root: `${root}/snap`, driver });
      const layers = fixtureLayers(image, variant);
      const committedOrder: number[] = [];
      const results = await unpackLayers({
        snapshotter: sn,
        layers: layers.map((l) => ({
          diffId: l.diffId,
          mediaType: l.mediaType,
          digest: l.digest,
          open: async () => l.open() as never,
        })),
        onCommitted: (i) => committedOrder.push(i),
      });
      expect(committedOrder).toEqual(layers.map((_, i) => i));
      expect(results.map((r) => r.applied?.diffId)).toEqual(layers.map((l) => l.diffId));
      const top = results.at(-1)!.chainId;
      const seen = await containerTree(sn, top, root);
      expect(withoutTimes(seen)).toEqual(expected.entries);
      for (const [path, node] of Object.entries(seen))
        expect([path, node.mtime]).toEqual([path, expected.mtime]);
      const all = await sn.walk();
      expect(all.filter((s) => s.kind === 'committed')).toHaveLength(layers.length);
      expect(all.filter((s) => s.kind === 'active').map((s) => s.name)).toEqual(['container']);
      // a second call finds every chain and opens nothing
      const again = await unpackLayers({
        snapshotter: sn,
        layers: layers.map((l) => ({
          diffId: l.diffId,
          open: () => Promise.reject(new Error('opened an existing layer')),
        })),
      });
      expect(again).toEqual(results.map((r) => ({ chainId: r.chainId, applied: null })));
    },
  );

  it("implicit parents take the lower directory's owner, mode and times when applied together", async () => {
    const root = await tempRoot();
    const sn = createSnapshotter({ root: `${root}/snap` });
    const t = new Date(1_000_000_000_000);
    const blobs = [
      await tarOf([{ name: 'tmp/', type: 'directory', mode: 0o1777, uid: 7, gid: 8, mtime: t }]),
      await tarOf([{ name: 'tmp/a/b', content: 'x' }]),
      await tarOf([{ name: 'tmp/a/c', content: 'y' }]),
    ];
    const results = await unpackLayers({
      snapshotter: sn,
      layers: blobs.map((b) => ({ diffId: sha256(b), open: async () => [b] })),
    });
    for (const [i, r] of results.entries()) {
      const dir = (await sn.stat(r.chainId)).dir;
      const st = await lstat(`${dir}/tmp`);
      expect([i, st.mode & 0o7777, st.uid, st.gid, st.mtimeMs]).toEqual([i, 0o1777, 7, 8, t.getTime()]);
    }
    // tmp/a is implicit in layer 3 too: it takes layer 2's (itself implicit, root 0755)
    const a = await lstat(`${(await sn.stat(results[2]!.chainId)).dir}/tmp/a`);
    expect([a.mode & 0o7777, a.uid]).toEqual([0o755, 0]);
    expect((await sn.stat(results[2]!.chainId)).parent).toBe(results[1]!.chainId);
  });

  it('reuses an existing chain without reading the stream', async () => {
    const image = fixtures.images.busybox;
    const root = await tempRoot();
    const sn = createSnapshotter({ root: `${root}/snap` });
    const [layer] = fixtureLayers(image, 'gzip');
    const first = await unpackLayer({
      snapshotter: sn,
      stream: layer!.open() as never,
      diffId: layer!.diffId,
    });
    const again = await unpackLayer({
      snapshotter: sn,
      stream: (async function* () {
        yield Buffer.from('never read');
      })(),
      diffId: layer!.diffId,
    });
    expect(again).toEqual({ chainId: first.chainId, applied: null });
    expect(first.chainId).toBe(layer!.diffId);
  });
});
