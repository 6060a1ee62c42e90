// Runs the conformance suite against a small in-memory sink, so the suite itself is exercised in
// the unit project. The store and the registry's OCI-layout sink run it against real storage.
import type { ContentSink, ContentWriter } from '../content-sink.js';
import type { Descriptor } from '../descriptor.js';
import { createVerifier, type Digest } from '../digest.js';
import { contentSinkSuite } from './content-sink-suite.js';

interface Backing {
  blobs: Map<string, Buffer>;
  ingests: Map<string, Buffer[]>;
  tags: Map<string, Descriptor>;
}

function memorySink(backing: Backing, options: { withTag: boolean }): ContentSink {
  const sink: ContentSink = {
    async info(digest) {
      const b = backing.blobs.get(digest);
      return b === undefined ? undefined : { digest, size: b.byteLength };
    },
    async writer({ ref, signal }) {
      signal?.throwIfAborted();
      const chunks = backing.ingests.get(ref) ?? [];
      backing.ingests.set(ref, chunks);
      let done = false;
      const writer: ContentWriter = {
        offset: chunks.reduce((n, c) => n + c.byteLength, 0),
        async write(chunk) {
          if (done) throw new Error(`ingest ${ref}: finished`);
          chunks.push(Buffer.from(chunk));
        },
        async commit(size: number, expected: Digest) {
          done = true;
          backing.ingests.delete(ref);
          const bytes = Buffer.concat(chunks);
          const verifier = createVerifier({ digest: expected, size });
          verifier.update(bytes);
          verifier.verify();
          if (!backing.blobs.has(expected)) backing.blobs.set(expected, bytes);
        },
        async abort() {
          done = true;
          backing.ingests.delete(ref);
        },
      };
      return writer;
    },
  };
  if (options.withTag) {
    sink.tag = async (name, desc) => {
      backing.tags.set(name, desc);
    };
  }
  return sink;
}

contentSinkSuite('memory sink', async () => {
  const backing: Backing = { blobs: new Map(), ingests: new Map(), tags: new Map() };
  return {
    sink: memorySink(backing, { withTag: true }),
    reopen: async () => memorySink(backing, { withTag: true }),
  };
});
