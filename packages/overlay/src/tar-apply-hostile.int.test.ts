// Hostile layers against the applier (review of the synchronous tar reader, #4): each layer is
// unpacked with both drivers; nothing outside the snapshotter root may change (a canary
// directory beside it: names, contents, modes and times), and a refused layer leaves no snapshot.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { digestOf, isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSnapshotter, type Snapshotter, type SnapshotterDriver } from './snapshotter.js';
import { END_OF_ARCHIVE, type TarEntryHeader, tarEntry } from './tar-writer.js';
import { unpackLayer, unpackLayers } from './unpack.js';

/** An entry: the writer's header fields (defaults below) and, for a file, its content. */
type E = Partial<TarEntryHeader> & { name: string; content?: string };

async function tarOf(entries: E[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const e of entries) {
    const content = Buffer.from(e.content ?? '');
    const h: TarEntryHeader = {
      type: 'file',
      mode: e.type === 'directory' ? 0o755 : 0o644,
      uid: 0,
      gid: 0,
      mtime: 946684800,
      ...e,
      size: e.type === undefined || e.type === 'file' ? content.length : 0,
    };
    for await (const b of tarEntry(h, null)) out.push(b);
    out.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  out.push(END_OF_ARCHIVE);
  return Buffer.concat(out);
}

let dir: string;
let canary: string;
let before: string;

/** Everything about a tree a layer could change: names, types, modes, owners, times, contents. */
function snapshotTree(root: string): string {
  const lines: string[] = [];
  const visit = (p: string, rel: string) => {
    const st = lstatSync(p);
    let extra = '';
    if (st.isSymbolicLink()) extra = readlinkSync(p);
    else if (st.isFile()) extra = readFileSync(p, 'utf8');
    lines.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${st.nlink} ${extra}`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) visit(`${p}/${n}`, `${rel}/${n}`);
  };
  visit(root, '.');
  return lines.join('\n');
}

beforeEach(async () => {
  dir = await mkdtemp(`${tmpdir()}/berth-tarhostile-${process.pid}-`);
  canary = `${dir}/canary`;
  await mkdir(`${canary}/sub`, { recursive: true });
  await writeFile(`${canary}/keep`, 'canary\n');
  await utimes(`${canary}/sub`, 1_000_000, 1_000_000);
  await utimes(canary, 1_000_000, 1_000_000);
  before = snapshotTree(canary);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const diffIdOf = (blob: Buffer): string => digestOf(blob);

/** Unpacks the layers in order into a fresh snapshotter; returns it and the top chain ID. */
async function unpack(driver: SnapshotterDriver, layers: E[][]): Promise<{ sn: Snapshotter; top: string }> {
  const sn = createSnapshotter({ root: `${dir}/snap`, driver });
  let parent: string | undefined;
  for (const entries of layers) {
    const blob = await tarOf(entries);
    const r = await unpackLayer({
      snapshotter: sn,
      ...(parent === undefined ? {} : { parent }),
      stream: [blob],
      diffId: diffIdOf(blob),
      sync: false,
    });
    parent = r.chainId;
  }
  return { sn, top: parent as string };
}

/** The committed top snapshot's directory (the copy driver's whole tree; overlay's top layer). */
async function topDir(sn: Snapshotter, top: string): Promise<string> {
  return (await sn.stat(top)).dir;
}

async function expectRefused(driver: SnapshotterDriver, layers: E[][], ...codes: string[]): Promise<void> {
  const err = await unpack(driver, layers).then(
    () => null,
    (e: unknown) => e,
  );
  expect(
    codes.some((c) => isBerthError(err, c)),
    `expected ${codes.join(' or ')}, got ${String(err)}`,
  ).toBe(true);
  const sn = createSnapshotter({ root: `${dir}/snap`, driver });
  expect((await sn.walk()).map((s) => s.kind)).toEqual(Array(layers.length - 1).fill('committed'));
  expect(readdirSync(`${dir}/snap/snapshots`)).toHaveLength(layers.length - 1);
}

describe.each(['overlay', 'copy'] as const)('applier against hostile layers (%s driver)', (driver) => {
  afterEach(() => {
    // nothing outside the snapshotter root changed, whatever the test did
    expect(snapshotTree(canary)).toBe(before);
    expect(readdirSync(dir).filter((n) => n !== 'snap')).toEqual(['canary']);
  });

  it('a directory replaced by a symlink to outside: its times are not set through the symlink', async () => {
    const { sn, top } = await unpack(driver, [
      [
        { name: 'd', type: 'directory', mtime: 1234 },
        { name: 'd/f', content: 'x' },
        { name: 'd', type: 'symlink', linkname: canary },
      ],
    ]);
    const root = await topDir(sn, top);
    expect(readlinkSync(`${root}/d`)).toBe(canary);
  });

  it('an implicit directory replaced by a symlink to outside: same', async () => {
    const { sn, top } = await unpack(driver, [
      [{ name: 'base', type: 'directory' }],
      [
        { name: 'base/x', content: 'x' },
        { name: 'base', type: 'symlink', linkname: `${canary}/sub` },
      ],
    ]);
    expect(readlinkSync(`${await topDir(sn, top)}/base`)).toBe(`${canary}/sub`);
  });

  it('the same two attacks through unpackLayers (parallel layers, implicit directories fixed last)', async () => {
    const sn = createSnapshotter({ root: `${dir}/snap`, driver });
    const blobs = await Promise.all([
      tarOf([{ name: 'base', type: 'directory' }]),
      tarOf([
        { name: 'base/x', content: 'x' },
        { name: 'base', type: 'symlink', linkname: `${canary}/sub` },
        { name: 'd', type: 'directory', mtime: 1234 },
        { name: 'd', type: 'symlink', linkname: canary },
      ]),
    ]);
    const results = await unpackLayers({
      snapshotter: sn,
      layers: blobs.map((blob) => ({ diffId: diffIdOf(blob), open: async () => [blob] })),
      sync: false,
    });
    const root = await topDir(sn, results[1]?.chainId as string);
    expect(readlinkSync(`${root}/base`)).toBe(`${canary}/sub`);
    expect(readlinkSync(`${root}/d`)).toBe(canary);
  });

  it('an opaque marker at the root and whiteouts stay inside the root', async () => {
    const { sn, top } = await unpack(driver, [
      [
        { name: 'a', content: 'lower' },
        { name: 's', type: 'symlink', linkname: canary },
      ],
      [
        { name: '.wh..wh..opq', content: '' },
        { name: '.wh.s', content: '' },
        { name: 'b', content: 'upper' },
      ],
    ]);
    const root = await topDir(sn, top);
    expect(readFileSync(`${root}/b`, 'utf8')).toBe('upper');
    // the copy driver applies whiteouts by deleting: the lower entries are gone from the tree
    if (driver === 'copy') expect(readdirSync(root).sort()).toEqual(['b']);
  });

  it('a symlink replaced by a directory, then written into: the directory is real', async () => {
    const { sn, top } = await unpack(driver, [
      [
        { name: 'l', type: 'symlink', linkname: canary },
        { name: 'l', type: 'directory' },
        { name: 'l/keep', content: 'inside' },
      ],
    ]);
    const root = await topDir(sn, top);
    expect(lstatSync(`${root}/l`).isDirectory()).toBe(true);
    expect(readFileSync(`${root}/l/keep`, 'utf8')).toBe('inside');
  });

  it('a symlink to outside, then a file of the same name: the file replaces the link', async () => {
    const { sn, top } = await unpack(driver, [
      [
        { name: 'l', type: 'symlink', linkname: `${canary}/keep` },
        { name: 'l', content: 'mine' },
      ],
    ]);
    const root = await topDir(sn, top);
    expect(lstatSync(`${root}/l`).isFile()).toBe(true);
    expect(readFileSync(`${root}/l`, 'utf8')).toBe('mine');
  });

  it('a file planted by a lower layer as a symlink to outside, overwritten by the upper layer', async () => {
    const { sn, top } = await unpack(driver, [
      [{ name: 'l', type: 'symlink', linkname: `${canary}/keep` }],
      [{ name: 'l', content: 'mine' }],
    ]);
    expect(readFileSync(`${await topDir(sn, top)}/l`, 'utf8')).toBe('mine');
  });

  it('a directory over a lower symlink to outside, then a file in it: written into the layer', async () => {
    const { sn, top } = await unpack(driver, [
      [{ name: 'l', type: 'symlink', linkname: canary }],
      [
        { name: 'l', type: 'directory' },
        { name: 'l/new', content: 'inside' },
      ],
    ]);
    expect(readFileSync(`${await topDir(sn, top)}/l/new`, 'utf8')).toBe('inside');
  });

  it('a file over a directory and a directory over a file (same layer and across layers)', async () => {
    const { sn, top } = await unpack(driver, [
      [
        { name: 'a', type: 'directory' },
        { name: 'a/child', content: 'c' },
        { name: 'b', content: 'file' },
      ],
      [
        { name: 'a', content: 'now a file' },
        { name: 'b', type: 'directory' },
        { name: 'b/inner', content: 'i' },
        { name: 'c', type: 'directory' },
        { name: 'c', content: 'c is a file' },
      ],
    ]);
    const root = await topDir(sn, top);
    expect(readFileSync(`${root}/a`, 'utf8')).toBe('now a file');
    expect(readFileSync(`${root}/b/inner`, 'utf8')).toBe('i');
    expect(readFileSync(`${root}/c`, 'utf8')).toBe('c is a file');
  });

  it('refuses a hardlink to a file reached through a symlink to outside', async () => {
    await expectRefused(
      driver,
      [[{ name: 's', type: 'symlink', linkname: canary }], [{ name: 'h', type: 'link', linkname: 's/keep' }]],
      // overlay: not in this layer's directory; copy: the parent is a symlink
      'LAYER_INVALID_ENTRY',
      'LAYER_UNSAFE_PATH',
    );
  });

  it('a hardlink to a symlink links the symlink itself (never its target)', async () => {
    const { sn, top } = await unpack(driver, [
      [
        { name: 's', type: 'symlink', linkname: `${canary}/keep` },
        { name: 'h', type: 'link', linkname: 's' },
      ],
    ]);
    const root = await topDir(sn, top);
    expect(lstatSync(`${root}/h`).isSymbolicLink()).toBe(true);
    expect(lstatSync(`${root}/h`).ino).toBe(lstatSync(`${root}/s`).ino);
  });

  it('refuses a hardlink to a later entry', async () => {
    await expectRefused(
      driver,
      [
        [
          { name: 'h', type: 'link', linkname: 'later' },
          { name: 'later', content: 'x' },
        ],
      ],
      'LAYER_INVALID_ENTRY',
    );
  });

  it('refuses whiteouts of . and .. and an empty name, and a whiteout at / (absolute)', async () => {
    for (const name of ['.wh..', '.wh...', 'a/.wh...', '.wh.', '/.wh.x', '../.wh.x']) {
      await expectRefused(driver, [[{ name, content: '' }]], 'LAYER_INVALID_ENTRY');
      await rm(`${dir}/snap`, { recursive: true, force: true });
    }
  });
});
