import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainIds, type Digest } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotCollector, SnapshotEntry } from './gc.js';
import { createStore, type Store } from './store.js';
import { putBlob, writeTestImage } from './test-image.js';

/** A snapshotter stand-in holding its list in memory; the store only asks and tells it. */
function snapshotter(entries: SnapshotEntry[]): SnapshotCollector & { swept: string[][] } {
  const swept: string[][] = [];
  return {
    swept,
    async walk() {
      return entries;
    },
    async sweep(keys) {
      swept.push(keys);
    },
  };
}

describe('garbage collection and disk usage', () => {
  let root: string;
  let store: Store;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
    store = await createStore({ root, platform: 'linux/amd64' });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps referenced and leased content, sweeps the rest', async () => {
    const kept = await writeTestImage(store.content, { layers: ['shared', 'kept'] });
    await store.images.tag('kept:1', kept.manifest);
    const dropped = await writeTestImage(store.content, { layers: ['shared', 'dropped'] });
    await store.images.tag('dropped:1', dropped.manifest);
    await store.images.remove('dropped:1');
    const lease = await store.leases.create();
    const leased = await putBlob(store.content, 'application/octet-stream', Buffer.from('leased'), {
      lease: lease.id,
    });
    const rooted = await putBlob(store.content, 'application/octet-stream', Buffer.from('rooted'));
    const orphan = await putBlob(store.content, 'application/octet-stream', Buffer.from('orphan'));

    const dry = await store.gc({ dryRun: true, roots: { content: [rooted.digest] } });
    const expected = [
      dropped.manifest.digest,
      dropped.config.digest,
      dropped.layers[1]?.digest,
      orphan.digest,
    ].sort();
    expect(dry.removedBlobs.map((b) => b.digest).sort()).toEqual(expected);
    expect(await store.info(orphan.digest)).toBeDefined();

    const res = await store.gc({ roots: { content: [rooted.digest] } });
    expect(res.removedBlobs.map((b) => b.digest).sort()).toEqual(expected);
    expect(res.reclaimedBytes).toBe(res.removedBlobs.reduce((n, b) => n + b.size, 0));
    for (const d of [
      ...kept.layers.map((l) => l.digest),
      kept.config.digest,
      kept.manifest.digest,
      leased.digest,
      rooted.digest,
    ]) {
      expect(await store.info(d), d).toBeDefined();
    }
    expect((await store.images.get('kept:1')).id).toBe(kept.config.digest);

    await store.leases.delete(lease.id);
    const after = await store.gc();
    expect(after.removedBlobs.map((b) => b.digest).sort()).toEqual([leased.digest, rooted.digest].sort());
  });

  it('marks through an index and keeps its manifests', async () => {
    const img = await writeTestImage(store.content, { layers: ['idx'] });
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...img.manifest, platform: { os: 'linux', architecture: 'amd64' } }],
    };
    const idx = await putBlob(
      store.content,
      'application/vnd.oci.image.index.v1+json',
      Buffer.from(JSON.stringify(index)),
    );
    await store.images.tag('multi:1', idx);
    expect((await store.gc()).removedBlobs).toEqual([]);
  });

  it('tells the snapshotter which snapshots nothing reaches, children first', async () => {
    const img = await writeTestImage(store.content, { layers: ['l1', 'l2'] });
    await store.images.tag('snap:1', img.manifest);
    const [c1, c2] = chainIds(img.layers.map((l) => l.digest)) as [Digest, Digest];
    const lease = await store.leases.create();
    await store.leases.addResource(lease.id, { type: 'snapshot', key: 'leased' });
    const snaps = snapshotter([
      { key: c1 },
      { key: c2, parent: c1 },
      { key: 'container-rw', parent: c2, inUse: true },
      { key: 'old-base' },
      { key: 'old-mid', parent: 'old-base' },
      { key: 'old-top', parent: 'old-mid' },
      { key: 'leased', parent: 'leased-parent' },
      { key: 'leased-parent' },
      { key: 'caller-root' },
    ]);
    const dry = await store.gc({ snapshots: snaps, dryRun: true, roots: { snapshots: ['caller-root'] } });
    expect(dry.unreachedSnapshots).toEqual(['old-top', 'old-mid', 'old-base']);
    expect(snaps.swept).toEqual([]);
    await store.gc({ snapshots: snaps, roots: { snapshots: ['caller-root'] } });
    expect(snaps.swept).toEqual([['old-top', 'old-mid', 'old-base']]);
  });

  it('accounts disk usage with shared layers counted once', async () => {
    const a = await writeTestImage(store.content, { layers: ['base-layer', 'a-only'] });
    const b = await writeTestImage(store.content, { layers: ['base-layer', 'b-only!'] });
    await store.images.tag('a:1', a.manifest);
    await store.images.tag('b:1', b.manifest);
    const extra = await putBlob(store.content, 'application/octet-stream', Buffer.from('unreferenced'));
    const df = await store.diskUsage({ activeImageIds: [a.config.digest] });
    const sizeA = a.manifest.size + a.config.size + 10 + 6;
    const sizeB = b.manifest.size + b.config.size + 10 + 7;
    expect(df.size).toBe(sizeA + sizeB - 10);
    expect(df.reclaimable).toBe(sizeB - 10);
    expect(df.active).toBe(1);
    expect(df.contentSize).toBe(df.size + extra.size);
    const ua = df.images.find((i) => i.id === a.config.digest);
    expect(ua).toMatchObject({ size: sizeA, sharedSize: 10, uniqueSize: sizeA - 10, active: true });
  });
});
