import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { createDecompressor } from './decompress.js';

// `printf 'hello berth, zstd layer\n' | zstd -c` (one frame, with its checksum)
const FRAME = Buffer.from(
  '28b52ffd0458c1000068656c6c6f2062657274682c207a737464206c617965720a179bd27c',
  'hex',
);

async function decode(bytes: Buffer, chunk = bytes.length): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const out = createDecompressor('zstd');
  const [, data] = await Promise.all([pipeline(Readable.from(parts), out), buffer(out)]);
  return data;
}

describe('the zstd decompressor', () => {
  it('decodes a frame whole and split into chunks of every size', async () => {
    for (const chunk of [FRAME.length, 1, 3, 7]) {
      expect((await decode(FRAME, chunk)).toString()).toBe('hello berth, zstd layer\n');
    }
  });

  it('decodes an empty frame, and no input at all, to nothing', async () => {
    expect((await decode(Buffer.from('28b52ffd240001000099e9d851', 'hex'))).length).toBe(0);
    expect((await decode(Buffer.alloc(0))).length).toBe(0);
  });

  it('fails a truncated or corrupt frame with LAYER_INVALID_TAR', async () => {
    // byte 6 is the first block's header: flipped, its type is the reserved one
    const bad = Buffer.from(FRAME);
    bad[6] = (bad[6] as number) ^ 0xff;
    for (const bytes of [FRAME.subarray(0, FRAME.length - 6), bad, Buffer.from('28b52ffd', 'hex')]) {
      const err = await decode(bytes, 5).catch((e: unknown) => e);
      expect(isBerthError(err, 'LAYER_INVALID_TAR'), String(err)).toBe(true);
    }
  });
});
