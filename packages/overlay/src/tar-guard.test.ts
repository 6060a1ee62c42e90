import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { sniffCompression } from './decompress.js';
import { MAX_TAR_META_BYTES } from './errors.js';
import { parsePaxRecords, TarGuard } from './tar-guard.js';
import { END_OF_ARCHIVE, paxRecords, type TarEntryHeader, tarEntry, ustarSplit } from './tar-writer.js';

async function tarBytes(entries: TarEntryHeader[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const e of entries) for await (const b of tarEntry(e, null)) out.push(b);
  out.push(END_OF_ARCHIVE);
  return Buffer.concat(out);
}

async function guard(bytes: Buffer, chunk = 100): Promise<{ g: TarGuard; forwarded: Buffer }> {
  const g = new TarGuard();
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const forwarded: Buffer[] = [];
  await pipeline(Readable.from(parts), g, async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) forwarded.push(c);
  });
  return { g, forwarded: Buffer.concat(forwarded) };
}

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

describe('TarGuard', () => {
  it('hashes every byte, trailing ones too, and forwards only up to the end block', async () => {
    const tar = await tarBytes([entry('a'), entry('b')]);
    const withTrailer = Buffer.concat([tar, Buffer.from('trailing junk')]);
    const { g, forwarded } = await guard(withTrailer, 7);
    expect(g.digest()).toBe(`sha256:${createHash('sha256').update(withTrailer).digest('hex')}`);
    expect(g.size).toBe(withTrailer.length);
    expect(forwarded.length).toBe(3 * 512);
  });

  it('keeps binary xattr values byte-exact, paired with their entry', async () => {
    const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff]);
    const tar = await tarBytes([entry('a'), entry('b', { xattrs: [['security.capability', value]] })]);
    const { g } = await guard(tar, 13);
    expect(g.takePax(0)).toBeUndefined();
    expect(g.takePax(1)?.xattrs.get('security.capability')).toEqual(value);
  });

  it('caps PAX headers', async () => {
    const tar = await tarBytes([entry('a', { xattrs: [['user.big', Buffer.alloc(MAX_TAR_META_BYTES)]] })]);
    const err = await guard(tar, 4096).catch((e) => e);
    expect(isBerthError(err, 'LAYER_HEADER_TOO_LARGE')).toBe(true);
  });

  it('refuses a bad checksum', async () => {
    const tar = await tarBytes([entry('a')]);
    tar[0] = 0x62;
    expect(isBerthError(await guard(tar).catch((e) => e), 'LAYER_INVALID_TAR')).toBe(true);
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
