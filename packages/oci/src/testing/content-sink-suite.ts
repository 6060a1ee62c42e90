/**
 * Conformance suite for {@link ContentSink} implementations (containerd's `testsuite` idea).
 * `@berth/store` and the registry's OCI-layout sink each run it from an int test:
 *
 * ```ts
 * contentSinkSuite('store', async () => {
 *   const root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
 *   return {
 *     sink: await openStore({ root }),
 *     reopen: () => openStore({ root }),
 *     cleanup: () => rm(root, { recursive: true, force: true }),
 *   };
 * });
 * ```
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContentSink, ContentWriter } from '../content-sink.js';
import type { Descriptor } from '../descriptor.js';
import { type Digest, digestOf } from '../digest.js';
import { isBerthError } from '../errors.js';

/** What a factory hands the suite for one test. */
export interface ContentSinkHarness {
  /** A fresh, empty sink. */
  sink: ContentSink;
  /**
   * A new sink over the same storage, as a new process would open it after this one crashed:
   * the suite uses it to check that an ingest resumes from its `offset`. Writers opened on the
   * old sink are abandoned (neither committed nor aborted) and never touched again.
   */
  reopen(): Promise<ContentSink>;
  /** Removes everything the harness created. */
  cleanup?(): Promise<void>;
}

/** Creates a {@link ContentSinkHarness} for each test. */
export type ContentSinkFactory = () => Promise<ContentSinkHarness>;

const MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';

function blob(text: string): { bytes: Uint8Array; desc: Descriptor } {
  const bytes = Buffer.from(text);
  return { bytes, desc: { mediaType: MEDIA_TYPE, digest: digestOf(bytes), size: bytes.byteLength } };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

let refCounter = 0;
function ref(label: string): string {
  refCounter += 1;
  return `berth-suite-${process.pid}-${refCounter}-${label}`;
}

async function writeAll(w: ContentWriter, bytes: Uint8Array, chunk = 7): Promise<void> {
  for (let i = 0; i < bytes.byteLength; i += chunk) await w.write(bytes.subarray(i, i + chunk));
}

/**
 * Registers a vitest `describe` block of behaviours every {@link ContentSink} must have:
 * commit makes a blob visible through `info`; a wrong digest or size is refused with
 * `DIGEST_MISMATCH` / `SIZE_MISMATCH` and leaves nothing; `abort` leaves nothing; two writers of
 * the same blob both commit; an ingest resumes from its offset after a restart; a blob already
 * present can be written again; `tag`, when implemented, accepts a committed descriptor.
 */
export function contentSinkSuite(name: string, factory: ContentSinkFactory): void {
  describe(`ContentSink conformance: ${name}`, () => {
    let harness: ContentSinkHarness;
    let sink: ContentSink;

    beforeEach(async () => {
      harness = await factory();
      sink = harness.sink;
    });

    afterEach(async () => {
      await harness.cleanup?.();
    });

    it('commits a blob written in chunks and reports it through info', async () => {
      const { bytes, desc } = blob('hello, content sink: several chunks of data');
      expect(await sink.info(desc.digest)).toBeUndefined();
      const w = await sink.writer({ ref: ref('commit'), desc });
      expect(w.offset).toBe(0);
      await writeAll(w, bytes);
      await w.commit(desc.size, desc.digest);
      expect(await sink.info(desc.digest)).toEqual({ digest: desc.digest, size: desc.size });
    });

    it('commits an empty blob', async () => {
      const { desc } = blob('');
      const w = await sink.writer({ ref: ref('empty'), desc });
      await w.commit(0, desc.digest);
      expect(await sink.info(desc.digest)).toEqual({ digest: desc.digest, size: 0 });
    });

    it('refuses a wrong digest with DIGEST_MISMATCH and keeps nothing', async () => {
      const { bytes, desc } = blob('the real content');
      const other = digestOf('other content');
      const w = await sink.writer({ ref: ref('digest'), desc });
      await writeAll(w, bytes);
      const err = await rejection(w.commit(desc.size, other));
      expect(isBerthError(err, 'DIGEST_MISMATCH')).toBe(true);
      expect(await sink.info(desc.digest)).toBeUndefined();
      expect(await sink.info(other)).toBeUndefined();
    });

    it('refuses a size larger than written with SIZE_MISMATCH and keeps nothing', async () => {
      const { bytes, desc } = blob('short content');
      const w = await sink.writer({ ref: ref('short'), desc });
      await writeAll(w, bytes);
      const err = await rejection(w.commit(desc.size + 1, desc.digest));
      expect(isBerthError(err, 'SIZE_MISMATCH')).toBe(true);
      expect(await sink.info(desc.digest)).toBeUndefined();
    });

    it('refuses a size smaller than written with SIZE_MISMATCH and keeps nothing', async () => {
      const { bytes, desc } = blob('long content');
      const w = await sink.writer({ ref: ref('long'), desc });
      await writeAll(w, bytes);
      const err = await rejection(w.commit(desc.size - 1, desc.digest));
      expect(isBerthError(err, 'SIZE_MISMATCH')).toBe(true);
      expect(await sink.info(desc.digest)).toBeUndefined();
    });

    it('abort leaves nothing, and the same ref starts again from zero', async () => {
      const { bytes, desc } = blob('aborted content');
      const r = ref('abort');
      const w = await sink.writer({ ref: r, desc });
      await writeAll(w, bytes);
      await w.abort();
      expect(await sink.info(desc.digest)).toBeUndefined();
      const again = await sink.writer({ ref: r, desc });
      expect(again.offset).toBe(0);
      await writeAll(again, bytes);
      await again.commit(desc.size, desc.digest);
      expect(await sink.info(desc.digest)).toEqual({ digest: desc.digest, size: desc.size });
    });

    it('lets two writers of the same blob both commit', async () => {
      const { bytes, desc } = blob('shared layer pulled twice at once');
      const a = await sink.writer({ ref: ref('twin-a'), desc });
      const b = await sink.writer({ ref: ref('twin-b'), desc });
      await Promise.all([writeAll(a, bytes, 5), writeAll(b, bytes, 3)]);
      await Promise.all([a.commit(desc.size, desc.digest), b.commit(desc.size, desc.digest)]);
      expect(await sink.info(desc.digest)).toEqual({ digest: desc.digest, size: desc.size });
    });

    it('accepts a blob it already holds', async () => {
      const { bytes, desc } = blob('already present');
      const first = await sink.writer({ ref: ref('present-1'), desc });
      await writeAll(first, bytes);
      await first.commit(desc.size, desc.digest);
      const second = await sink.writer({ ref: ref('present-2'), desc });
      await writeAll(second, bytes.subarray(second.offset));
      await second.commit(desc.size, desc.digest);
      expect(await sink.info(desc.digest)).toEqual({ digest: desc.digest, size: desc.size });
    });

    it('resumes an ingest from its offset after a restart', async () => {
      const { bytes, desc } = blob('a download interrupted halfway and resumed by another process');
      const r = ref('resume');
      const half = Math.floor(bytes.byteLength / 2);
      const first = await sink.writer({ ref: r, desc });
      await first.write(bytes.subarray(0, half));
      // The first writer is abandoned, as if its process died.
      const reopened = await harness.reopen();
      expect(await reopened.info(desc.digest)).toBeUndefined();
      const resumed = await reopened.writer({ ref: r, desc });
      expect(resumed.offset).toBe(half);
      await resumed.write(bytes.subarray(resumed.offset));
      await resumed.commit(desc.size, desc.digest);
      expect(await reopened.info(desc.digest)).toEqual({ digest: desc.digest, size: desc.size });
    });

    it('rejects writer() when the signal is already aborted', async () => {
      const { desc } = blob('never written');
      const controller = new AbortController();
      controller.abort();
      await expect(sink.writer({ ref: ref('signal'), desc, signal: controller.signal })).rejects.toThrow();
      expect(await sink.info(desc.digest)).toBeUndefined();
    });

    it('tags a committed descriptor when tag() is implemented', async (ctx) => {
      if (sink.tag === undefined) {
        ctx.skip('this sink does not implement the optional tag()');
        return;
      }
      const { bytes, desc } = blob('{"tagged":true}');
      const w = await sink.writer({ ref: ref('tag'), desc });
      await writeAll(w, bytes);
      await w.commit(desc.size, desc.digest as Digest);
      await expect(sink.tag('docker.io/library/busybox:latest', desc)).resolves.toBeUndefined();
      await expect(sink.tag('docker.io/library/busybox:latest', desc)).resolves.toBeUndefined();
    });
  });
}
