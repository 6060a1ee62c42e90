/**
 * The contract between a puller and where the content goes. `@berth/registry` writes into a
 * `ContentSink`; `@berth/store` implements it, and so does the registry's plain OCI-layout
 * directory sink (pulling needs no store and no root).
 *
 * Vocabulary (containerd's content store): the sink is an **Ingester** — `writer()` opens an
 * **ingest** named by `ref`. Bytes written to an ingest are invisible to readers. `commit(size,
 * expected)` verifies the bytes and makes them visible atomically as a blob addressed by its
 * digest; from then on the blob is readable through the store's **Provider** side (not part of
 * this contract) and `info()` reports it. `abort()` drops an ingest. Lifecycle of one ingest:
 *
 * ```text
 * writer({ ref, desc }) → (offset > 0: resume from offset) → write()* → commit(size, digest)
 *                                                                     ↘ abort()
 * ```
 */

import type { Descriptor } from './descriptor.js';
import type { Digest } from './digest.js';

/**
 * Where pulled content goes. Implementations must be safe for concurrent use by several
 * writers with different `ref`s, including writers of the same blob.
 */
export interface ContentSink {
  /** The size of a blob the sink already holds, or undefined. Lets a pull skip it. */
  info(
    digest: Digest,
    opts?: { signal?: AbortSignal },
  ): Promise<{ digest: Digest; size: number } | undefined>;
  /**
   * Opens a writer for one blob. `ref` names the ingest (resumable across processes): a new
   * writer for a `ref` whose earlier writer neither committed nor aborted starts at the bytes
   * already held (`offset`). Opening a writer for a blob the sink already holds is allowed;
   * committing it succeeds and leaves the blob as it was.
   */
  writer(opts: { ref: string; desc: Descriptor; signal?: AbortSignal }): Promise<ContentWriter>;
  /** Records that `name` (a full normalised reference) points at `desc`. Optional. */
  tag?(name: string, desc: Descriptor, opts?: { signal?: AbortSignal }): Promise<void>;
}

/** Writes one ingest. Use it from one task at a time; after `commit` or `abort` it is finished. */
export interface ContentWriter {
  /** Bytes already held for this ingest (a resumed download continues from here). */
  readonly offset: number;
  /** Appends a chunk to the ingest. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Optional: appends several chunks (`n` bytes in all) in one call, as `write` of each in
   * order, without concatenating them first. Writers use it when a sink has it.
   */
  writev?(chunks: readonly Uint8Array[], n: number): Promise<void>;
  /**
   * Optional: true when the writer keeps no reference to a chunk once its `write`/`writev`
   * settled, so the caller may reuse the chunk's memory (the registry client then reuses its
   * socket read buffers instead of allocating 1 MiB per MiB received).
   */
  readonly keepsNoChunks?: boolean;
  /**
   * Verifies size and digest, makes the blob visible atomically; throws SIZE_MISMATCH /
   * DIGEST_MISMATCH and leaves nothing. A commit racing another writer of the same blob
   * succeeds.
   */
  commit(size: number, expected: Digest): Promise<void>;
  /** Drops the ingest; nothing becomes visible. */
  abort(): Promise<void>;
}
