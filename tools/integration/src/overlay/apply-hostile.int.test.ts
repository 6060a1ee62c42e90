// Hostile layers, one named test per rule (STYLE.md, Testing): each must fail with a typed
// error naming the entry, leave no snapshot behind and create nothing outside the root.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { type RawTarEntry, readTree, sha256Digest as sha256, tarOf } from '@berth/fixtures';
import { isBerthError } from '@berth/oci';
import {
  createSnapshotter,
  MAX_TAR_META_BYTES,
  type Snapshotter,
  type SnapshotterDriver,
  unpackLayer,
  unpackLayers,
} from '@berth/overlay';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

type E = RawTarEntry;

let root: string;
let canary: string;
let before: unknown;

beforeEach(async () => {
  root = await mkdtemp(`${tmpdir()}/berth-t${process.pid}-`);
  canary = `${root}/canary`;
  await mkdir(canary);
  await writeFile(`${canary}/keep`, 'canary\n');
  before = readTree(canary);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Unpacks `layers` in order; the last must fail with `code`. Checks the aftermath. */
async function expectRefused(driver: SnapshotterDriver, layers: E[][], code: string, entry?: string) {
  const sn: Snapshotter = createSnapshotter({ root: `${root}/snap`, driver });
  let parent: string | undefined;
  for (const [i, entries] of layers.entries()) {
    const blob = await tarOf(entries);
    const run = unpackLayer({
      snapshotter: sn,
      ...(parent === undefined ? {} : { parent }),
      stream: [blob],
      diffId: sha256(blob),
    });
    if (i < layers.length - 1) {
      parent = (await run).chainId;
      continue;
    }
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isBerthError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
    if (entry !== undefined && isBerthError(err)) {
      expect(err.input).toEqual({ field: entry });
      expect(err.message).toContain(JSON.stringify(entry));
    }
  }
  // the failed layer's snapshot is gone, on disk and in the metadata
  const left = await sn.walk();
  expect(left.map((s) => s.kind)).toEqual(Array(layers.length - 1).fill('committed'));
  expect(await readdir(`${root}/snap/snapshots`)).toHaveLength(layers.length - 1);
  // nothing outside the root changed
  expect(readTree(canary)).toEqual(before);
  expect((await readdir(root)).sort()).toEqual(['canary', 'snap']);
  await rm(`${root}/snap`, { recursive: true, force: true });
  await expectRefusedTogether(driver, layers, code, entry);
}

/** The same layers in one {@link unpackLayers} call (parallel with overlay): all or nothing. */
async function expectRefusedTogether(driver: SnapshotterDriver, layers: E[][], code: string, entry?: string) {
  const sn: Snapshotter = createSnapshotter({ root: `${root}/snap`, driver });
  const blobs = await Promise.all(layers.map((entries) => tarOf(entries)));
  const err = await unpackLayers({
    snapshotter: sn,
    layers: blobs.map((blob) => ({ diffId: sha256(blob), open: async () => [blob] })),
  }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(isBerthError(err, code), `together: expected ${code}, got ${String(err)}`).toBe(true);
  if (entry !== undefined && isBerthError(err)) expect(err.input).toEqual({ field: entry });
  // the copy driver commits layer by layer; the overlay batch commits nothing
  const committed = driver === 'copy' ? layers.length - 1 : 0;
  expect((await sn.walk()).map((s) => s.kind)).toEqual(Array(committed).fill('committed'));
  expect(await readdir(`${root}/snap/snapshots`)).toHaveLength(committed);
  expect(readTree(canary)).toEqual(before);
  expect((await readdir(root)).sort()).toEqual(['canary', 'snap']);
}

describe.each(['overlay', 'copy'] as const)('hostile layers (%s driver)', (driver) => {
  it('refuses a .. component that escapes', async () => {
    await expectRefused(
      driver,
      [[{ name: '../../../canary/pwned', content: 'x' }]],
      'LAYER_INVALID_ENTRY',
      '../../../canary/pwned',
    );
  });

  it('refuses a .. component even when it would stay inside', async () => {
    await expectRefused(driver, [[{ name: 'a/../b', content: 'x' }]], 'LAYER_INVALID_ENTRY', 'a/../b');
  });

  it('refuses an absolute path', async () => {
    const name = `${canary}/pwned`;
    await expectRefused(driver, [[{ name, content: 'x' }]], 'LAYER_INVALID_ENTRY', name);
  });

  it('refuses a write through a symlink planted by an earlier entry (absolute target)', async () => {
    await expectRefused(
      driver,
      [
        [
          { name: 'evil', type: 'symlink', linkname: canary },
          { name: 'evil/pwned', content: 'x' },
        ],
      ],
      'LAYER_UNSAFE_PATH',
      'evil/pwned',
    );
  });

  it('refuses a write through a symlink planted by an earlier entry (relative target)', async () => {
    await expectRefused(
      driver,
      [
        [
          { name: 'evil', type: 'symlink', linkname: `../../../../../../../..${canary}` },
          { name: 'evil/pwned', content: 'x' },
        ],
      ],
      'LAYER_UNSAFE_PATH',
      'evil/pwned',
    );
  });

  it('refuses a write through chained symlinks', async () => {
    await expectRefused(
      driver,
      [
        [
          { name: 'a', type: 'symlink', linkname: 'b' },
          { name: 'b', type: 'symlink', linkname: canary },
          { name: 'a/pwned', content: 'x' },
        ],
      ],
      'LAYER_UNSAFE_PATH',
      'a/pwned',
    );
  });

  it('refuses a write through a symlink planted by an earlier layer', async () => {
    await expectRefused(
      driver,
      [[{ name: 'evil', type: 'symlink', linkname: canary }], [{ name: 'evil/pwned', content: 'x' }]],
      'LAYER_UNSAFE_PATH',
      'evil/pwned',
    );
  });

  it('refuses a whiteout through a symlink (which would delete outside)', async () => {
    await expectRefused(
      driver,
      [[{ name: 'evil', type: 'symlink', linkname: canary }], [{ name: 'evil/.wh.keep' }]],
      'LAYER_UNSAFE_PATH',
      'evil/.wh.keep',
    );
  });

  it('refuses an opaque marker through a symlink', async () => {
    await expectRefused(
      driver,
      [[{ name: 'evil', type: 'symlink', linkname: canary }, { name: 'evil/.wh..wh..opq' }]],
      'LAYER_UNSAFE_PATH',
      'evil/.wh..wh..opq',
    );
  });

  it('refuses a hardlink whose target is outside (.. and absolute)', async () => {
    await expectRefused(
      driver,
      [[{ name: 'x', type: 'link', linkname: '../../canary/keep' }]],
      'LAYER_UNSAFE_PATH',
      'x',
    );
    await rm(`${root}/snap`, { recursive: true });
    await expectRefused(
      driver,
      [[{ name: 'y', type: 'link', linkname: `${canary}/keep` }]],
      'LAYER_UNSAFE_PATH',
      'y',
    );
  });

  it('refuses a hardlink through a symlink', async () => {
    await expectRefused(
      driver,
      [
        [
          { name: 'evil', type: 'symlink', linkname: canary },
          { name: 'x', type: 'link', linkname: 'evil/keep' },
        ],
      ],
      'LAYER_UNSAFE_PATH',
      'x',
    );
  });

  it('refuses a name with NUL', async () => {
    await expectRefused(
      driver,
      [[{ name: 'ok', content: 'x', pax: { path: 'a\u0000b' } }]],
      'LAYER_INVALID_ENTRY',
      'a\u0000b',
    );
  });

  it('refuses an oversized PAX header before buffering it', async () => {
    await expectRefused(
      driver,
      [[{ name: 'big', content: 'x', pax: { 'SCHILY.xattr.user.big': 'x'.repeat(MAX_TAR_META_BYTES + 1) } }]],
      'LAYER_HEADER_TOO_LARGE',
    );
  });

  it("refuses overlay's own xattrs in a layer", async () => {
    await expectRefused(
      driver,
      [[{ name: 'd', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }]],
      'LAYER_UNSAFE_PATH',
      'd',
    );
  });

  it('refuses a symlink entry that claims data (parsers would disagree)', async () => {
    const blob = await tarOf([{ name: 'l', type: 'symlink', linkname: 't' }]);
    blob.write('00000001000', 124, 'latin1'); // size field
    let sum = 0;
    blob.fill(0x20, 148, 156);
    for (let k = 0; k < 512; k++) sum += blob[k]!;
    blob.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const sn = createSnapshotter({ root: `${root}/snap`, driver });
    const err = await unpackLayer({ snapshotter: sn, stream: [blob], diffId: sha256(blob) }).catch((e) => e);
    expect(isBerthError(err, 'LAYER_INVALID_TAR')).toBe(true);
    expect(await sn.walk()).toEqual([]);
  });

  it('refuses a layer whose diffID does not match, and removes its snapshot', async () => {
    const sn = createSnapshotter({ root: `${root}/snap`, driver });
    const blob = await tarOf([{ name: 'f', content: 'hello' }]);
    const err = await unpackLayer({
      snapshotter: sn,
      stream: [blob],
      diffId: `sha256:${'0'.repeat(64)}`,
    }).catch((e) => e);
    expect(isBerthError(err, 'DIGEST_MISMATCH')).toBe(true);
    expect(await sn.walk()).toEqual([]);
    expect(await readdir(`${root}/snap/snapshots`)).toEqual([]);
    expect(readTree(canary)).toEqual(before);
  });

  it('stops every layer when one stream fails mid-way (a download error), and removes them all', async () => {
    const sn = createSnapshotter({ root: `${root}/snap`, driver });
    const good = await tarOf(Array.from({ length: 50 }, (_, i) => ({ name: `a/f${i}`, content: 'x' })));
    const cut = await tarOf(Array.from({ length: 50 }, (_, i) => ({ name: `b/f${i}`, content: 'y' })));
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield cut.subarray(0, 4096);
      throw new Error('download interrupted: digest mismatch');
    }
    const err = await unpackLayers({
      snapshotter: sn,
      layers: [
        { diffId: sha256(good), open: async () => [good] },
        { diffId: sha256(cut), open: async () => broken() },
      ],
    }).catch((e: unknown) => e);
    expect(String(err)).toContain('download interrupted');
    // the copy driver commits layer by layer; the overlay batch commits nothing
    const committed = driver === 'copy' ? 1 : 0;
    expect((await sn.walk()).map((s) => s.kind)).toEqual(Array(committed).fill('committed'));
    expect(await readdir(`${root}/snap/snapshots`)).toHaveLength(committed);
    expect(readTree(canary)).toEqual(before);
  });
});
