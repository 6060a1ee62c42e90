// gzip layers decoded by ISA-L (@berth/runtime's berth-inflate.node, what the engine passes) and
// by node:zlib (the default): the same trees and diffIDs, the same refusals of broken streams.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { sha256Digest as sha256, tarOf } from '@berth/fixtures';
import { isBerthError, type LogFields, silentLogger } from '@berth/oci';
import {
  ApplyThreads,
  createDecompressor,
  createSnapshotter,
  unpackLayer,
  unpackLayers,
} from '@berth/overlay';
import { gunzipAddonPath } from '@berth/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(`${tmpdir()}/berth-t${process.pid}-gunzip-`);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const addon = gunzipAddonPath();

/** A layer of a few files, big enough for several output buffers (~1.3 MB uncompressed). */
async function layerTar(): Promise<Buffer> {
  const text = (n: number) => Buffer.from(`line ${n} of a layer file\n`.repeat(20_000));
  const random = Buffer.alloc(300_000);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  return tarOf([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/a.txt', content: text(1) },
    { name: 'etc/b.bin', content: random },
    { name: 'etc/c.txt', content: text(2) },
  ]);
}

describe.each([
  ['ISA-L', addon],
  ['node:zlib', undefined],
] as const)('gzip layers decoded by %s', (_name, gunzipAddon) => {
  const snapshotter = () =>
    createSnapshotter({
      root: `${root}/snap`,
      ...(gunzipAddon === undefined ? {} : { gunzipAddon: async () => gunzipAddon }),
    });

  /** Unpacks `blob` (whose tar is `tar`) and returns the tree's file contents, or the error. */
  async function unpack(blob: Buffer, tar: Buffer, pieces = 64 * 1024) {
    const sn = snapshotter();
    const stream: Buffer[] = [];
    for (let at = 0; at < blob.length; at += pieces) stream.push(blob.subarray(at, at + pieces));
    const r = await unpackLayer({ snapshotter: sn, stream, diffId: sha256(tar) });
    const dir = (await sn.stat(r.chainId)).dir;
    return { r, read: (p: string) => readFile(`${dir}/${p}`) };
  }

  it('is built and found (the engine passes it)', () => {
    expect(addon).toMatch(/\/berth-inflate\.node$/);
  });

  it('unpacks a layer cut anywhere, with the diffID of its tar', async () => {
    const tar = await layerTar();
    for (const pieces of [1 << 20, 4093, 7]) {
      const { r, read } = await unpack(gzipSync(tar), tar, pieces);
      expect(r.applied?.diffId).toBe(sha256(tar));
      expect(r.applied?.uncompressedSize).toBe(tar.length);
      expect((await read('etc/c.txt')).toString()).toBe(`line 2 of a layer file\n`.repeat(20_000));
      await rm(`${root}/snap`, { recursive: true, force: true });
    }
  });

  it('reads concatenated gzip members as one stream, and zero padding after the last', async () => {
    const tar = await layerTar();
    const cut = 700_000;
    const blob = Buffer.concat([
      gzipSync(tar.subarray(0, cut)),
      gzipSync(tar.subarray(cut)),
      Buffer.alloc(4096),
    ]);
    const { r, read } = await unpack(blob, tar, 10_000);
    expect(r.applied?.diffId).toBe(sha256(tar));
    expect((await read('etc/a.txt')).length).toBe(Buffer.byteLength('line 1 of a layer file\n') * 20_000);
  });

  const broken: [string, (gz: Buffer) => Buffer][] = [
    ['cut short', (gz) => gz.subarray(0, gz.length - 1000)],
    ['cut inside the trailer', (gz) => gz.subarray(0, gz.length - 3)],
    ['with a wrong CRC32', (gz) => flip(gz, gz.length - 6)],
    ['with a wrong size in the trailer', (gz) => flip(gz, gz.length - 2)],
    ['with corrupt deflate data', (gz) => flip(gz, 2000)],
    [
      'followed by bytes that are not a gzip member',
      (gz) => Buffer.concat([gz, Buffer.from('not gzip, not padding')]),
    ],
    ['empty after its magic', (gz) => gz.subarray(0, 2)],
  ];
  it.each(broken)('refuses a stream %s and leaves no snapshot', async (_what, breakIt) => {
    const tar = await layerTar();
    const sn = snapshotter();
    const err = await unpackLayer({
      snapshotter: sn,
      stream: [breakIt(gzipSync(tar))],
      diffId: sha256(tar),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isBerthError(err, 'LAYER_INVALID_TAR'), String(err)).toBe(true);
    expect(await sn.walk()).toEqual([]);
    expect(await readdir(`${root}/snap/snapshots`)).toEqual([]);
  });

  it('unpacks a stack on apply threads, each loading the decoder', async () => {
    const sn = snapshotter();
    const tars = await Promise.all(
      ['one', 'two', 'three'].map((n) => tarOf([{ name: `${n}.txt`, content: `${n}\n`.repeat(100_000) }])),
    );
    const threads = new ApplyThreads();
    const decoders: unknown[] = [];
    const logger = {
      ...silentLogger,
      debug: (msg: string, fields?: LogFields) => {
        if (msg === 'gzip layer') decoders.push(fields?.decoder);
      },
    };
    try {
      const results = await unpackLayers({
        snapshotter: sn,
        threads,
        logger,
        concurrency: 2,
        layers: tars.map((t) => ({ diffId: sha256(t), open: async () => [gzipSync(t)] })),
      });
      expect(results.map((r) => r.applied?.diffId)).toEqual(tars.map((t) => sha256(t)));
      const top = (await sn.stat(results[2]?.chainId as string)).dir;
      expect(await readFile(`${top}/three.txt`, 'utf8')).toBe('three\n'.repeat(100_000));
      expect(decoders).toEqual(Array(3).fill(gunzipAddon === undefined ? 'node:zlib' : 'isa-l'));
    } finally {
      await threads.close();
    }
  });
});

describe.each([
  ['ISA-L', addon],
  ['node:zlib', undefined],
] as const)('a gzip bomb decoded by %s', (_name, path) => {
  it('is held back by its reader: one small chunk does not become its whole output in memory', async () => {
    const gunzip =
      path === undefined
        ? undefined
        : (createRequire(import.meta.url)(path) as Parameters<typeof createDecompressor>[1]);
    const total = 64 * 1024 * 1024;
    // 64 MiB of zeros in ~64 KiB: written as one chunk
    const blob = gzipSync(Buffer.alloc(total), { level: 9 });
    expect(blob.length).toBeLessThan(128 * 1024);
    const d = createDecompressor('gzip', gunzip);
    d.end(blob);
    // nobody reads yet: what the decoder made of the chunk is all held in its buffer
    const held = d.readableLength;
    let seen = 0;
    for await (const c of d) seen += (c as Buffer).length;
    expect(seen).toBe(total);
    // the reader's buffer (1 MiB for ISA-L, 16 KiB for node:zlib) and at most one output chunk
    expect(held).toBeLessThan(4 * 1024 * 1024);
  });
});

describe('the ISA-L decoder', () => {
  it('names what igzip found in a broken stream', async () => {
    const tar = await layerTar();
    const sn = createSnapshotter({ root: `${root}/snap`, gunzipAddon: async () => addon });
    const gz = gzipSync(tar);
    const err = await unpackLayer({
      snapshotter: sn,
      stream: [flip(gz, gz.length - 6)],
      diffId: sha256(tar),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isBerthError(err, 'LAYER_INVALID_TAR')).toBe(true);
    // node:zlib says "incorrect data check"
    expect(String((err as Error).cause)).toContain('incorrect checksum');
  });

  it('that does not load leaves node:zlib to decode, with a warning', async () => {
    const tar = await layerTar();
    const warnings: [string, LogFields | undefined][] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (msg: string, fields?: LogFields) => warnings.push([msg, fields]),
      error: () => {},
    };
    const missing = `${root}/no-such-addon.node`;
    const sn = createSnapshotter({ root: `${root}/snap`, gunzipAddon: async () => missing });
    const r = await unpackLayer({ snapshotter: sn, stream: [gzipSync(tar)], diffId: sha256(tar), logger });
    expect(r.applied?.diffId).toBe(sha256(tar));
    expect(warnings).toEqual([
      ['gzip addon did not load; using node:zlib', expect.objectContaining({ path: missing })],
    ]);
  });
});

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = (c[at] as number) ^ 0xff;
  return c;
}
