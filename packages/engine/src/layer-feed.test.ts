import { Readable } from 'node:stream';
import type { ContentWriter, Digest } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { LayerFeed, teeWriter } from './layer-feed.js';

/** A writer over an array, starting at `offset` bytes already held. */
function memoryWriter(held: Buffer): ContentWriter & { bytes(): Buffer; committed: boolean; writes: number } {
  const chunks: Buffer[] = [held];
  let committed = false;
  let writes = 0;
  return {
    get writes() {
      return writes;
    },
    get offset() {
      return Buffer.concat(chunks).byteLength;
    },
    async write(chunk) {
      writes++;
      chunks.push(Buffer.from(chunk));
    },
    async writev(batch) {
      writes++;
      for (const c of batch) chunks.push(Buffer.from(c));
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

  it('hands a batch to the store in one call and every byte of it to the feed', async () => {
    const feed = new LayerFeed(async () => Readable.from([Buffer.from('unused')]));
    const got = drain(feed.open());
    const w = memoryWriter(Buffer.alloc(0));
    const tee = teeWriter(w, [feed]);
    await tee.writev?.([blob.subarray(0, 3), blob.subarray(3, 11), blob.subarray(11)], blob.byteLength);
    await tee.commit(blob.byteLength, digest);
    await feed.downloaded();
    expect(w.writes).toBe(1);
    expect(w.bytes().toString()).toBe(blob.toString());
    expect((await got).toString()).toBe(blob.toString());
  });

  it('keeps no chunk of a writer that keeps none: the caller may reuse their memory once written', async () => {
    const feed = new LayerFeed(async () => Readable.from([Buffer.from('unused')]));
    const got = drain(feed.open());
    const w = Object.assign(memoryWriter(Buffer.alloc(0)), { keepsNoChunks: true });
    const plain = teeWriter(memoryWriter(Buffer.alloc(0)), []);
    expect(plain.keepsNoChunks).toBe(false);
    const tee = teeWriter(w, [feed]);
    expect(tee.keepsNoChunks).toBe(true);
    // the registry client's read buffers, overwritten by its next reads as soon as a write settles
    const slab = Buffer.from(blob);
    await tee.writev?.([slab.subarray(0, 3), slab.subarray(3, 11)], 11);
    slab.fill('X', 0, 11);
    slab.set(blob.subarray(11), 11);
    await tee.write(slab.subarray(11));
    slab.fill('Y');
    await tee.commit(blob.byteLength, digest);
    await feed.downloaded();
    expect(w.bytes().toString()).toBe(blob.toString());
    expect((await got).toString()).toBe(blob.toString());
  });

  it('copies for a feed only the bytes it lacks when a download restarts inside a batch', async () => {
    const feed = new LayerFeed(async () => Readable.from([Buffer.from('unused')]));
    const got = drain(feed.open());
    const first = teeWriter(Object.assign(memoryWriter(Buffer.alloc(0)), { keepsNoChunks: true }), [feed]);
    await first.write(blob.subarray(0, 7));
    await first.abort();
    const again = teeWriter(Object.assign(memoryWriter(Buffer.alloc(0)), { keepsNoChunks: true }), [feed]);
    const slab = Buffer.from(blob);
    await again.writev?.([slab.subarray(0, 4), slab.subarray(4, 9), slab.subarray(9)], blob.byteLength);
    slab.fill('X');
    await feed.downloaded();
    expect((await got).toString()).toBe(blob.toString());
  });

  it('does not hold the download back for an unpack that has not started: it reads the stored blob', async () => {
    // more than the feed buffers (4 MiB on each side of its PassThrough), before anyone opens it
    const big = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < big.byteLength; i += 4096) big.writeUInt32BE(i, i);
    const feed = new LayerFeed(async () => Readable.from([big]));
    const w = memoryWriter(Buffer.alloc(0));
    const tee = teeWriter(w, [feed]);
    for (let at = 0; at < big.byteLength; at += 64 * 1024) await tee.write(big.subarray(at, at + 64 * 1024));
    expect(feed.live).toBe(false);
    await tee.commit(big.byteLength, digest);
    await feed.downloaded();
    const got = await drain(feed.open());
    expect(got.equals(big)).toBe(true);
  });

  it('holds the download back for a feed the unpack is about to open, and streams it once opened', async () => {
    const big = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < big.byteLength; i += 4096) big.writeUInt32BE(i, i);
    const feed = new LayerFeed(async () => Readable.from([Buffer.from('unused')]));
    feed.expect();
    const tee = teeWriter(memoryWriter(Buffer.alloc(0)), [feed]);
    let written = 0;
    const download = (async () => {
      for (let at = 0; at < big.byteLength; at += 64 * 1024) {
        await tee.write(big.subarray(at, at + 64 * 1024));
        written = at + 64 * 1024;
      }
      await tee.commit(big.byteLength, digest);
      await feed.downloaded();
    })();
    await new Promise((r) => setTimeout(r, 50));
    // waiting for a reader, still live, with no more than the buffers hold
    expect(feed.live).toBe(true);
    expect(written).toBeLessThan(big.byteLength);
    const got = drain(feed.open());
    await download;
    expect((await got).equals(big)).toBe(true);
  });

  it('lets a held download go on when the expected feed is released, and then reads the stored blob', async () => {
    const big = Buffer.alloc(12 * 1024 * 1024, 7);
    const feed = new LayerFeed(async () => Readable.from([big]));
    feed.expect();
    const tee = teeWriter(memoryWriter(Buffer.alloc(0)), [feed]);
    const download = (async () => {
      for (let at = 0; at < big.byteLength; at += 64 * 1024)
        await tee.write(big.subarray(at, at + 64 * 1024));
      await tee.commit(big.byteLength, digest);
    })();
    await new Promise((r) => setTimeout(r, 50));
    feed.release();
    await download;
    expect(feed.live).toBe(false);
    await feed.downloaded();
    expect((await drain(feed.open())).equals(big)).toBe(true);
  });
});
