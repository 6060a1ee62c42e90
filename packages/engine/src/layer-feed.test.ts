import { Readable } from 'node:stream';
import type { ContentWriter, Digest } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { LayerFeed, teeWriter } from './layer-feed.js';

/** A writer over an array, starting at `offset` bytes already held. */
function memoryWriter(held: Buffer): ContentWriter & { bytes(): Buffer; committed: boolean } {
  const chunks: Buffer[] = [held];
  let committed = false;
  return {
    get offset() {
      return Buffer.concat(chunks).byteLength;
    },
    async write(chunk) {
      chunks.push(Buffer.from(chunk));
    },
    async commit() {
      committed = true;
    },
    async abort() {},
    bytes: () => Buffer.concat(chunks),
    get committed() {
      return committed;
    },
  };
}

async function drain(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

const blob = Buffer.from('0123456789abcdefghij');
const digest = 'sha256:0' as Digest;

describe('teeWriter', () => {
  it('forwards every byte once to a live feed and ends it when the download is complete', async () => {
    const feed = new LayerFeed(async () => Readable.from([Buffer.from('unused')]));
    const got = drain(feed.stream);
    const w = memoryWriter(Buffer.alloc(0));
    const tee = teeWriter(w, [feed]);
    await tee.write(blob.subarray(0, 7));
    await tee.write(blob.subarray(7));
    await tee.commit(blob.byteLength, digest);
    await feed.downloaded();
    expect(w.committed).toBe(true);
    expect((await got).toString()).toBe(blob.toString());
  });

  it('skips what a feed has when the download restarts from byte 0 (Range ignored)', async () => {
    const feed = new LayerFeed(async () => Readable.from([Buffer.from('unused')]));
    const got = drain(feed.stream);
    const first = teeWriter(memoryWriter(Buffer.alloc(0)), [feed]);
    await first.write(blob.subarray(0, 12));
    await first.abort();
    const again = teeWriter(memoryWriter(Buffer.alloc(0)), [feed]);
    await again.write(blob.subarray(0, 5));
    await again.write(blob.subarray(5, 15));
    await again.write(blob.subarray(15));
    await feed.downloaded();
    expect((await got).toString()).toBe(blob.toString());
  });

  it('turns a feed to the stored blob when the ingest resumes past its bytes', async () => {
    const feed = new LayerFeed(async () => Readable.from([blob]));
    const got = drain(feed.stream);
    const tee = teeWriter(memoryWriter(blob.subarray(0, 8)), [feed]);
    expect(feed.live).toBe(false);
    await tee.write(blob.subarray(8));
    await feed.downloaded();
    expect((await got).toString()).toBe(blob.toString());
  });

  it('fails the feed with the download error', async () => {
    const feed = new LayerFeed(async () => Readable.from([blob]));
    const got = drain(feed.stream);
    feed.fail(new Error('digest mismatch'));
    await expect(got).rejects.toThrow('digest mismatch');
  });
});
