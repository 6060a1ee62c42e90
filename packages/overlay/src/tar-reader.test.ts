import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { sniffCompression } from './decompress.js';
import { MAX_TAR_META_BYTES } from './errors.js';
import { parsePaxRecords, TarReader } from './tar-reader.js';
import { END_OF_ARCHIVE, paxRecords, type TarEntryHeader, tarEntry, ustarSplit } from './tar-writer.js';
import { readInChunks, type Seen } from './testing/tar-read.js';

async function tarBytes(entries: TarEntryHeader[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const e of entries) for await (const b of tarEntry(e, null)) out.push(b);
  out.push(END_OF_ARCHIVE);
  return Buffer.concat(out);
}

/** Feeds `bytes` to a reader in pieces of `chunk` bytes; returns the reader and what it saw. */
const read = (bytes: Buffer, chunk = 100) => readInChunks(bytes, chunk);

const entry = (name: string, more: Partial<TarEntryHeader> = {}): TarEntryHeader => ({
  name,
  type: 'directory',
  mode: 0o755,
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 946684800,
  ...more,
});

describe('TarReader', () => {
  it('hashes every byte, trailing ones too, and parses only up to the end block', async () => {
    const tar = await tarBytes([entry('a'), entry('b')]);
    const withTrailer = Buffer.concat([tar, Buffer.from('trailing junk')]);
    const { r, seen } = await read(withTrailer, 7);
    expect(r.digest()).toBe(`sha256:${createHash('sha256').update(withTrailer).digest('hex')}`);
    expect(r.size).toBe(withTrailer.length);
    expect(seen.map((s) => [s.header.name, s.header.type, s.ended])).toEqual([
      ['a/', 'directory', true],
      ['b/', 'directory', true],
    ]);
  });

  it('delivers file data in order, whatever the chunking, and the header fields', async () => {
    const body = Buffer.from('x'.repeat(700));
    const tar = await tarBytes([
      entry('f', { type: 'file', size: body.length, mode: 0o4755, uid: 7, gid: 8 }),
      entry('l', { type: 'symlink', linkname: '../target' }),
    ]);
    // the writer above emits headers only: put the data after the first header
    const withData = Buffer.concat([
      tar.subarray(0, 512),
      body,
      Buffer.alloc(512 - (body.length % 512)),
      tar.subarray(512),
    ]);
    for (const chunk of [1, 13, 512, 4096]) {
      const { seen } = await read(withData, chunk);
      expect(seen).toHaveLength(2);
      const [f, l] = seen as [Seen, Seen];
      expect(f.data.equals(body)).toBe(true);
      expect(f.header).toMatchObject({ type: 'file', mode: 0o4755, uid: 7, gid: 8, size: 700 });
      expect(f.header.mtime.getTime()).toBe(946684800_000);
      expect(l.header).toMatchObject({ name: 'l', type: 'symlink', linkname: '../target' });
    }
  });

  it('takes long names and link targets from PAX records', async () => {
    const long = `${'d'.repeat(120)}/${'n'.repeat(120)}`;
    const tar = await tarBytes([entry(long, { type: 'symlink', linkname: 't'.repeat(150) })]);
    const { seen } = await read(tar, 64);
    expect(seen[0]?.header.name).toBe(long);
    expect(seen[0]?.header.linkname).toBe('t'.repeat(150));
  });

  it('keeps binary xattr values byte-exact, paired with their entry', async () => {
    const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff]);
    const tar = await tarBytes([entry('a'), entry('b', { xattrs: [['security.capability', value]] })]);
    const { seen } = await read(tar, 13);
    expect(seen[0]?.header.xattrs).toBeNull();
    expect(seen[1]?.header.xattrs?.get('security.capability')).toEqual(value);
  });

  it('caps PAX headers', async () => {
    const tar = await tarBytes([entry('a', { xattrs: [['user.big', Buffer.alloc(MAX_TAR_META_BYTES)]] })]);
    const err = await read(tar, 4096).catch((e) => e);
    expect(isBerthError(err, 'LAYER_HEADER_TOO_LARGE')).toBe(true);
  });

  it('refuses a bad checksum', async () => {
    const tar = await tarBytes([entry('a')]);
    tar[0] = 0x62;
    expect(isBerthError(await read(tar).catch((e) => e), 'LAYER_INVALID_TAR')).toBe(true);
  });

  it('reads a header without ustar or GNU magic as V7, as Go does', async () => {
    const tar = await tarBytes([entry('a')]);
    tar.fill(0, 257, 265);
    let sum = 0;
    for (let k = 0; k < 512; k++) sum += k >= 148 && k < 156 ? 0x20 : (tar[k] as number);
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const { seen } = await read(tar);
    expect(seen.map((s) => [s.header.name, s.header.type])).toEqual([['a/', 'directory']]);
  });

  it('refuses a directory or a link that claims data', async () => {
    for (const type of ['directory', 'symlink'] as const) {
      const tar = await tarBytes([entry('a', { type, size: 10, linkname: 'x' })]);
      const err = await read(tar).catch((e) => e);
      expect(isBerthError(err, 'LAYER_INVALID_TAR')).toBe(true);
    }
  });

  it('refuses a stream that ends inside an entry', async () => {
    const tar = await tarBytes([entry('f', { type: 'file', size: 600 })]);
    const err = await read(tar.subarray(0, 512 + 100)).catch((e) => e);
    expect(isBerthError(err, 'LAYER_INVALID_TAR')).toBe(true);
    expect((err as Error).message).toMatch(/unexpected end/);
  });

  it('waits for a sink that returns a promise before parsing on', async () => {
    const tar = await tarBytes([entry('a'), entry('b'), entry('c')]);
    const order: string[] = [];
    const r = new TarReader({
      async entry(h) {
        order.push(`start ${h.name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`done ${h.name}`);
      },
      data() {},
      end() {},
    });
    await pipeline(Readable.from([tar]), r);
    expect(order).toEqual(['start a/', 'done a/', 'start b/', 'done b/', 'start c/', 'done c/']);
  });

  it('refuses malformed PAX records', () => {
    expect(() => parsePaxRecords(Buffer.from('99 path=x\n'), 0)).toThrow();
    expect(parsePaxRecords(paxRecords([['path', Buffer.from('x')]]), 0)).toEqual([
      ['path', Buffer.from('x')],
    ]);
  });
});

describe('tar writer', () => {
  it('splits long names like ustar, or gives up', () => {
    expect(ustarSplit('a/b')).toEqual({ prefix: '', name: 'a/b' });
    expect(ustarSplit(`${'p'.repeat(50)}/${'n'.repeat(90)}`)).toEqual({
      prefix: 'p'.repeat(50),
      name: 'n'.repeat(90),
    });
    expect(ustarSplit('n'.repeat(101))).toBeNull();
    expect(ustarSplit('ü')).toBeNull();
  });

  it('writes self-consistent PAX record lengths', () => {
    for (const n of [1, 80, 95, 990, 9990]) {
      const rec = paxRecords([['k', Buffer.alloc(n, 0x61)]]);
      expect(Number(rec.toString('latin1').split(' ')[0])).toBe(rec.length);
    }
  });
});

describe('sniffCompression', () => {
  it('tells gzip, zstd and tar apart and refuses bzip2 and xz', () => {
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(sniffCompression(Buffer.from('etc/passwd'))).toBe('none');
    expect(() => sniffCompression(Buffer.from('BZh91AY'))).toThrow(
      expect.objectContaining({ code: 'LAYER_UNSUPPORTED_COMPRESSION' }),
    );
    expect(() => sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toThrow(
      expect.objectContaining({ code: 'LAYER_UNSUPPORTED_COMPRESSION' }),
    );
  });
});
