/**
 * The bytes of one layer on their way to its unpack, during a pull: docker downloads a layer
 * whole, then extracts it; berth extracts while the bytes arrive. A feed is a stream the
 * unpack reads. It is `live` (the download's writes are copied into it, as the store gets
 * them) unless the download cannot give it every byte from the first: an ingest left by an
 * earlier process resumes at its offset, or the blob was stored already. Then it reads the
 * stored blob once the download is complete (`store`). Either way the unpack's snapshot is
 * committed only after the store verified the blob's digest and the apply the diffID, so
 * bytes that fail verification never become a snapshot.
 */
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { ContentWriter } from '@berth/oci';

/** Bytes a feed buffers before the download waits for the unpack to read them. */
const FEED_BUFFER = 4 * 1024 * 1024;

/** One layer's bytes for its unpack; see the module comment. */
export class LayerFeed {
  #stream = new PassThrough({ highWaterMark: FEED_BUFFER });
  /** Bytes of the blob forwarded so far (a download that restarts skips them). */
  sent = 0;
  #live = true;
  #piped = false;
  #opened = false;
  #expected = false;

  /** @param stored - opens the stored blob, for a feed that cannot be live */
  constructor(private readonly stored: () => Promise<Readable>) {}

  get live(): boolean {
    return this.#live;
  }

  /** What the unpack reads (see {@link open}). */
  get stream(): PassThrough {
    return this.#stream;
  }

  /**
   * The unpack starts reading. Until then a live feed whose buffer fills does not hold its
   * download back: it turns to the stored blob (the unpack reads the blob once it is complete)
   * and the download goes on at the network's pace, as docker's does.
   */
  open(): PassThrough {
    this.#opened = true;
    return this.#stream;
  }

  /** From now on the feed reads the stored blob when the download is complete. */
  useStore(): void {
    this.#live = false;
  }

  /**
   * The unpack opens this feed as soon as its snapshots are prepared (one of the first layers it
   * applies at once): until then a full buffer holds the download back, as an open feed does,
   * rather than turning the feed to the stored blob. The downloads start while the unpack
   * prepares its snapshots and would otherwise outrun it by a few MiB and turn those feeds too,
   * leaving their threads to wait for whole downloads.
   */
  expect(): void {
    this.#expected = true;
  }

  /**
   * The unpack will not open this feed soon after all (it opened a later layer first: this
   * layer's snapshot turned out to exist). Unless it is open, the feed stops holding the download
   * back: what is buffered is dropped and the stored blob is read if it is ever opened.
   */
  release(): void {
    if (!this.#expected) return;
    this.#expected = false;
    if (this.#opened || !this.#live) return;
    this.#live = false;
    this.#stream.destroy();
    this.#stream = new PassThrough({ highWaterMark: FEED_BUFFER });
  }

  /** Forwards bytes of a live feed; waits while the unpack is behind. */
  async push(chunk: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (!this.#live || this.#stream.destroyed) return;
    const stream = this.#stream;
    if (stream.write(chunk)) return;
    if (!this.#opened && !this.#expected) {
      // nobody reads yet: drop what is buffered, read the stored blob later instead
      this.#live = false;
      stream.destroy();
      this.#stream = new PassThrough({ highWaterMark: FEED_BUFFER });
      return;
    }
    // drained, or destroyed (closed, failed, or released)
    const ac = new AbortController();
    const o = { signal: signal ? AbortSignal.any([signal, ac.signal]) : ac.signal };
    try {
      await Promise.race([once(stream, 'drain', o), once(stream, 'close', o)]);
    } catch (err) {
      if (signal?.aborted) throw err;
    } finally {
      ac.abort();
    }
  }

  /** The blob is complete and verified in the store. */
  async downloaded(): Promise<void> {
    if (this.#live) {
      this.#stream.end();
      return;
    }
    if (this.#piped) return;
    this.#piped = true;
    const stream = this.#stream;
    try {
      const source = await this.stored();
      source.on('error', (err) => stream.destroy(err));
      source.pipe(stream);
      stream.on('close', () => source.destroy());
    } catch (err) {
      this.fail(err);
    }
  }

  /** The download failed: the unpack fails with its error. */
  fail(err: unknown): void {
    this.#stream.destroy(err instanceof Error ? err : new Error(String(err)));
  }

  /** Lets go of the stream (after the unpack, whatever its outcome). */
  close(): void {
    this.#stream.destroy();
  }
}

/**
 * A content writer that also forwards each byte it is given to the live `feeds` of the same
 * blob, once each: a download that restarts from byte 0 (a registry that ignored `Range`)
 * does not forward again what a feed has; a writer that starts past a feed's bytes (an ingest
 * resumed from an earlier process) turns that feed to the stored blob.
 *
 * When `w` keeps no chunks, neither does this writer: a feed gets the bytes of a write (a batch
 * of ~1 MiB from the registry client) copied into one buffer of its own, which it may hold as
 * long as it likes (an apply thread takes it over, moved rather than copied again), and the
 * registry client reuses its read buffers.
 */
export function teeWriter(
  w: ContentWriter,
  feeds: readonly LayerFeed[],
  signal?: AbortSignal,
): ContentWriter {
  for (const f of feeds) if (f.live && w.offset > f.sent) f.useStore();
  let pos = w.offset;
  const own = w.keepsNoChunks === true;
  /** Forwards the `n` bytes of `chunks`, which start at `pos`. */
  const forward = (chunks: readonly Uint8Array[], n: number): Promise<unknown> => {
    const start = pos;
    pos += n;
    const pushes: Promise<void>[] = [];
    for (const f of feeds) {
      if (!f.live || f.sent >= pos) continue;
      const from = f.sent - start;
      f.sent = pos;
      const parts = slicesFrom(chunks, from);
      if (own) pushes.push(f.push(ownCopy(parts), signal));
      // the chunks as they came (the writer below may hold them as well)
      else
        pushes.push(
          (async () => {
            for (const c of parts) await f.push(c, signal);
          })(),
        );
    }
    return Promise.all(pushes);
  };
  return {
    get offset() {
      return w.offset;
    },
    keepsNoChunks: own,
    async write(chunk) {
      await Promise.all([w.write(chunk), forward([chunk], chunk.byteLength)]);
    },
    // a batch goes to the store in one call when it takes batches
    async writev(chunks, n) {
      const stored = w.writev
        ? w.writev(chunks, n)
        : w.write(chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, n));
      await Promise.all([stored, forward(chunks, n)]);
    },
    commit: (size, expected) => w.commit(size, expected),
    abort: () => w.abort(),
  };
}

/** The bytes of `chunks` from offset `from` on (whole chunks where it can), without copying. */
function slicesFrom(chunks: readonly Uint8Array[], from: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of chunks) {
    const skip = Math.min(Math.max(from - at, 0), c.byteLength);
    at += c.byteLength;
    if (skip < c.byteLength) out.push(skip > 0 ? c.subarray(skip) : c);
  }
  return out;
}

/** `parts` in one new buffer of its own (never a slice of Node's shared pool), which may be moved. */
function ownCopy(parts: readonly Uint8Array[]): Buffer {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = Buffer.allocUnsafeSlow(n);
  let to = 0;
  for (const p of parts) {
    out.set(p, to);
    to += p.byteLength;
  }
  return out;
}
