import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { sha256Digest as sha256, tarOf } from '@berth/fixtures';
import { isBerthError } from '@berth/oci';
import { createSnapshotter, MOUNT_DATA_LIMIT, type mountAll, unpackLayer } from '@berth/overlay';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountTracker } from './mounts.js';

let root: string;
const mounts_ = mountTracker();

beforeEach(async () => {
  root = await mkdtemp(`${tmpdir()}/berth-t${process.pid}-`);
});

afterEach(async () => {
  await mounts_.releaseAll();
  await rm(root, { recursive: true, force: true });
});

const mountAt = (mounts: Parameters<typeof mountAll>[0], name: string) =>
  mounts_.at(mounts, `${root}/${name}`);

describe('snapshotter', () => {
  it('mounts an image of 130 layers (options over a page, made relative)', async () => {
    // a long root makes the absolute lowerdir list far longer than a page
    const sn = createSnapshotter({ root: `${root}/${'r'.repeat(60)}/snapshots` });
    let parent: string | undefined;
    for (let i = 0; i < 130; i++) {
      const blob = await tarOf([
        { name: `layer-${i}`, content: `${i}\n` },
        { name: 'top', content: `${i}\n` },
      ]);
      parent = (
        await unpackLayer({
          snapshotter: sn,
          ...(parent ? { parent } : {}),
          stream: [blob],
          diffId: sha256(blob),
          sync: false,
        })
      ).chainId;
    }
    const mounts = await sn.prepare('c', parent);
    expect(mounts[0]!.options.join(',').length).toBeGreaterThan(MOUNT_DATA_LIMIT);
    const target = await mountAt(mounts, 'rootfs');
    const names = await readdir(target);
    expect(names).toHaveLength(131);
    expect(await readFile(`${target}/layer-0`, 'utf8')).toBe('0\n');
    expect(await readFile(`${target}/top`, 'utf8')).toBe('129\n');
  });

  it('runs the lifecycle: prepare, commit, view, usage, remove with children refused', async () => {
    const sn = createSnapshotter({ root: `${root}/snap` });
    const base = await sn.prepare('base-key');
    expect(base).toEqual([{ type: 'bind', source: `${root}/snap/snapshots/1/fs`, options: ['rbind', 'rw'] }]);
    const t = await mountAt(base, 'base');
    await mkdir(`${t}/etc`);
    await mounts_.release(t);
    await sn.commit('base', 'base-key', { labels: { a: 'b' } });
    expect(await sn.stat('base')).toMatchObject({ name: 'base', kind: 'committed', labels: { a: 'b' } });
    expect(isBerthError(await sn.stat('base-key').catch((e) => e), 'SNAPSHOT_NOT_FOUND')).toBe(true);
    const usage = await sn.usage('base');
    expect(usage.inodes).toBe(2);
    expect(usage.size).toBeGreaterThan(0);

    const c = await sn.prepare('ctr', 'base');
    expect(c[0]!.type).toBe('overlay');
    const ct = await mountAt(c, 'ctr');
    expect(await readdir(ct)).toEqual(['etc']);
    const v = await sn.view('v', 'base');
    expect(v).toEqual([{ type: 'bind', source: `${root}/snap/snapshots/1/fs`, options: ['rbind', 'ro'] }]);
    expect(await sn.mounts('ctr')).toEqual(c);

    expect(isBerthError(await sn.prepare('ctr', 'base').catch((e) => e), 'SNAPSHOT_EXISTS')).toBe(true);
    expect(isBerthError(await sn.prepare('x', 'ctr').catch((e) => e), 'SNAPSHOT_INVALID_STATE')).toBe(true);
    expect(isBerthError(await sn.prepare('x', 'nope').catch((e) => e), 'SNAPSHOT_NOT_FOUND')).toBe(true);
    expect(isBerthError(await sn.commit('y', 'v').catch((e) => e), 'SNAPSHOT_INVALID_STATE')).toBe(true);
    expect(isBerthError(await sn.remove('base').catch((e) => e), 'SNAPSHOT_HAS_CHILDREN')).toBe(true);

    await mounts_.release(ct);
    // a container that wrote a tree (and symlinks out of it): all gone, without the fsync
    await mkdir(`${root}/snap/snapshots/2/fs/a/b/c`, { recursive: true });
    await symlink(`${root}/snap/snapshots/1/fs/etc`, `${root}/snap/snapshots/2/fs/a/out`);
    await sn.remove('ctr', { durable: false });
    expect(isBerthError(await sn.stat('ctr').catch((e) => e), 'SNAPSHOT_NOT_FOUND')).toBe(true);
    expect(await readdir(`${root}/snap/snapshots`)).toEqual(['1', '3']); // 3: the view
    expect(await readdir(`${root}/snap/snapshots/1/fs`)).toEqual(['etc']);
    // as one of many removals (rm -f of many): the fsync and the tree on the thread pool
    await sn.remove('v', { concurrent: true });
    expect(isBerthError(await sn.stat('v').catch((e) => e), 'SNAPSHOT_NOT_FOUND')).toBe(true);
    expect(await readdir(`${root}/snap/snapshots`)).toEqual(['1']);
    await sn.remove('base');
    expect(await sn.walk()).toEqual([]);
    expect(await readdir(`${root}/snap/snapshots`)).toEqual([]);
  });

  it('commits a stack with one metadata write: all of it, or none; an existing name is reported', async () => {
    const sn = createSnapshotter({ root: `${root}/snap` });
    for (const k of ['a', 'b', 'c']) {
      const [m] = await sn.prepare(`k-${k}`);
      await writeFile(`${m!.source}/${k}`, k);
    }
    // a parent that is neither committed nor in the batch fails the batch: nothing committed
    const err = await sn
      .commitAll([
        { name: 'A', key: 'k-a' },
        { name: 'B', key: 'k-b', options: { parent: 'k-c' } },
      ])
      .catch((e) => e);
    expect(isBerthError(err, 'SNAPSHOT_INVALID_STATE')).toBe(true);
    expect((await sn.walk()).map((s) => [s.name, s.kind])).toEqual([
      ['k-a', 'active'],
      ['k-b', 'active'],
      ['k-c', 'active'],
    ]);
    expect(
      await sn.commitAll([
        { name: 'A', key: 'k-a' },
        { name: 'B', key: 'k-b', options: { parent: 'A' } },
      ]),
    ).toEqual(['committed', 'committed']);
    expect(await sn.commitAll([{ name: 'B', key: 'k-c', options: { parent: 'A' } }])).toEqual(['exists']);
    expect((await sn.walk()).map((s) => [s.name, s.kind, s.parent])).toEqual([
      ['A', 'committed', undefined],
      ['B', 'committed', 'A'],
      ['k-c', 'active', undefined],
    ]);
    const target = await mountAt(await sn.view('v', 'B'), 'view');
    expect((await readdir(target)).sort()).toEqual(['a', 'b']);
  });

  it('keeps metadata consistent under concurrent prepares and cleans crash leftovers', async () => {
    const sn = createSnapshotter({ root: `${root}/snap` });
    await Promise.all(Array.from({ length: 20 }, (_, i) => sn.prepare(`k${i}`)));
    const all = await sn.walk();
    expect(all).toHaveLength(20);
    expect(new Set(all.map((s) => s.dir)).size).toBe(20);
    await mkdir(`${root}/snap/snapshots/999/fs`, { recursive: true }); // a crash between mkdir and record
    // a crash between making an fs directory under its random name and renaming it into place
    await mkdir(`${root}/snap/snapshots/.new-0123456789abcdef/usr`, { recursive: true });
    expect(await sn.cleanup()).toBe(2);
    expect(await readdir(`${root}/snap/snapshots`)).toHaveLength(20);
    // a second snapshotter on the same root (another process) sees the same state
    expect(await createSnapshotter({ root: `${root}/snap` }).walk()).toEqual(all);
  });

  it('prepares without fsyncs on request; a record lost to a power loss leaves an orphan cleanup removes', async () => {
    const sn = createSnapshotter({ root: `${root}/snap` });
    await sn.prepare('base-key');
    await sn.commit('base', 'base-key');
    const m = await sn.prepare('volatile', 'base', { durable: false });
    expect(await sn.mounts('volatile')).toEqual(m);
    expect((await sn.walk()).map((s) => [s.name, s.kind])).toEqual([
      ['base', 'committed'],
      ['volatile', 'active'],
    ]);
    // what a power loss may leave of a record that was never fsynced: the tree, no record
    const records = await readdir(`${root}/snap/records`);
    expect(records).toHaveLength(1);
    await rm(`${root}/snap/records/${records[0]}`);
    expect((await sn.walk()).map((s) => s.name)).toEqual(['base']);
    expect(await readdir(`${root}/snap/snapshots`)).toHaveLength(2);
    expect(await sn.cleanup()).toBe(1);
    expect(await readdir(`${root}/snap/snapshots`)).toEqual([basename(dirname((await sn.stat('base')).dir))]);
    await sn.prepare('volatile', 'base', { durable: false }); // the key is free again
  });

  it('waits for another process holding the default lock, then creates and commits', async () => {
    const sn = createSnapshotter({ root: `${root}/snap` });
    await sn.prepare('base-key');
    await sn.commit('base', 'base-key');
    // another process holding proper-lockfile's lock (the default locker) has made this
    // directory and keeps its mtime fresh; creates (shared, taken exclusive by the default) and
    // commits wait for it. The flock(2) locker's shared lock is tested where the engine
    // injects it (packages/engine/src/wiring.test.ts).
    await mkdir(`${root}/snap/metadata.flock.lock`);
    let done = false;
    const work = (async () => {
      await Promise.all(Array.from({ length: 5 }, (_, i) => sn.prepare(`c${i}`, 'base')));
      await sn.commit('c1-img', 'c1');
      done = true;
    })();
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    expect((await sn.walk()).map((s) => s.name)).toEqual(['base']);
    await rm(`${root}/snap/metadata.flock.lock`, { recursive: true });
    await work;
    expect((await sn.stat('c1-img')).kind).toBe('committed');
    expect((await sn.walk()).map((s) => s.name)).toEqual(['base', 'c0', 'c1-img', 'c2', 'c3', 'c4']);
  });

  it('reads a store of the previous version and what a crash mid-commit leaves', async () => {
    await mkdir(`${root}/snap/snapshots/1/fs`, { recursive: true });
    await mkdir(`${root}/snap/snapshots/2/work`, { recursive: true });
    await mkdir(`${root}/snap/snapshots/2/fs`, { recursive: true });
    const t = '2026-01-01T00:00:00.000Z';
    const rec = (id: number, kind: string, parent?: string) => ({
      id,
      kind,
      ...(parent ? { parent } : {}),
      labels: {},
      created: t,
      updated: t,
    });
    // the previous version kept every snapshot in metadata.json
    await writeFile(
      `${root}/snap/metadata.json`,
      JSON.stringify({
        version: 'berth.snapshots.v1',
        nextId: 3,
        snapshots: [
          ['base', rec(1, 'committed')],
          ['old-ctr', rec(2, 'active', 'base')],
        ],
      }),
    );
    const sn = createSnapshotter({ root: `${root}/snap` });
    expect((await sn.walk()).map((s) => [s.name, s.kind])).toEqual([
      ['base', 'committed'],
      ['old-ctr', 'active'],
    ]);
    expect((await sn.mounts('old-ctr'))[0]!.options).toContain(`upperdir=${root}/snap/snapshots/2/fs`);
    const fresh = await sn.prepare('new-ctr', 'base');
    expect(fresh[0]!.options).toContain(`upperdir=${root}/snap/snapshots/3/fs`);
    expect(isBerthError(await sn.prepare('old-ctr').catch((e) => e), 'SNAPSHOT_EXISTS')).toBe(true);
    expect(isBerthError(await sn.remove('base').catch((e) => e), 'SNAPSHOT_HAS_CHILDREN')).toBe(true);
    await sn.remove('old-ctr');
    expect(isBerthError(await sn.remove('base').catch((e) => e), 'SNAPSHOT_HAS_CHILDREN')).toBe(true);
    await sn.remove('new-ctr');
    await sn.remove('base');
    expect(await sn.walk()).toEqual([]);
    expect(await readdir(`${root}/snap/snapshots`)).toEqual([]);

    // a kill -9 after a commit wrote metadata.json, before it deleted the record file
    await sn.prepare('k');
    const [file] = (await readdir(`${root}/snap/records`)).filter((n) => n.endsWith('.json'));
    const left = await readFile(`${root}/snap/records/${file}`);
    await sn.commit('img', 'k');
    await writeFile(`${root}/snap/records/${file}`, left);
    expect((await sn.walk()).map((s) => [s.name, s.kind])).toEqual([['img', 'committed']]);
    expect(isBerthError(await sn.stat('k').catch((e) => e), 'SNAPSHOT_NOT_FOUND')).toBe(true);
    await sn.prepare('k', 'img'); // the key is free again
    expect(await sn.cleanup()).toBe(0);
    expect((await sn.walk()).map((s) => s.name)).toEqual(['img', 'k']);
  });

  it('refuses a root overlay options cannot carry', () => {
    expect(() => createSnapshotter({ root: '/tmp/a:b' })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INVALID_ROOT' }),
    );
    expect(() => createSnapshotter({ root: 'relative' })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INVALID_ROOT' }),
    );
  });
});
