/**
 * Pulling an image into a content sink: resolve the reference, pick the platform's manifest from
 * an index, then fetch the config and layers (in parallel, skipping blobs the sink holds), then
 * the manifest and index themselves, then tag. The order means a sink holds a manifest only once
 * everything it names is there.
 */
import {
  type ContentSink,
  type ContentWriter,
  type Descriptor,
  formatPlatform,
  formatReference,
  hostPlatform,
  type Index,
  type Manifest,
  normalizePlatform,
  type Platform,
  parsePlatform,
  platformNotFound,
  type Reference,
  selectManifest,
} from '@berth/oci';
import { fetchBlob } from './blobs.js';
import { RegistryError } from './errors.js';
import { runPool } from './pool.js';
import type { BlobKind, PullEvent } from './progress.js';
import { contextOf, fetchManifest } from './resolve.js';
import type { Session } from './session.js';

/** Options of `pull`. */
export interface PullOptions {
  /** The platform to pick from an index (`linux/arm64`); default the host's. */
  platform?: string | Platform;
  /** Blobs downloaded at once; default 3. */
  concurrency?: number;
  /** Receives progress events (for progress bars). */
  onProgress?: (event: PullEvent) => void;
  /** Name passed to `sink.tag` (default the full normalised reference); `false` skips tagging. */
  tag?: string | false;
  signal?: AbortSignal;
}

/** What `pull` fetched. */
export interface PullResult {
  /** The full normalised reference pulled. */
  reference: string;
  /** What the reference resolved to (an index or a manifest). */
  root: Descriptor;
  /** The platform's manifest (equal to `root` for a single-platform image), with its platform. */
  manifest: Descriptor;
  /** The image config blob. */
  config: Descriptor;
  /** The layer blobs, base first. */
  layers: Descriptor[];
}

const MAX_INDEX_DEPTH = 4;

/**
 * Writes a small document into its ingest, uncommitted, unless the sink holds it already
 * (then undefined): `pull` stages the manifest and its indexes while the blobs download (a sink
 * may get the bytes to disk meanwhile) and commits them after every blob they name.
 */
async function stageBytes(
  sink: ContentSink,
  ref: string,
  desc: Descriptor,
  bytes: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<ContentWriter | undefined> {
  if ((await sink.info(desc.digest, signal ? { signal } : {}))?.size === desc.size) return undefined;
  const writer = await sink.writer({ ref, desc, ...(signal ? { signal } : {}) });
  try {
    if (writer.offset > 0 && writer.offset <= bytes.byteLength)
      await writer.write(bytes.subarray(writer.offset));
    else {
      if (writer.offset > 0)
        throw new RegistryError('SIZE_MISMATCH', `ingest ${ref}: holds more bytes than ${desc.digest}`);
      await writer.write(bytes);
    }
  } catch (err) {
    await writer.abort().catch(() => {});
    throw err;
  }
  return writer;
}

/**
 * Pulls `ref` into `sink`. Throws the resolve and blob errors (MANIFEST_UNKNOWN, UNAUTHORIZED,
 * DIGEST_MISMATCH, …), PLATFORM_NOT_FOUND when an index has no manifest for the platform, and
 * the signal's reason when aborted (blobs in flight stop; committed blobs stay).
 */
export async function pullImage(
  session: Session,
  ref: Reference,
  sink: ContentSink,
  options: PullOptions = {},
): Promise<PullResult> {
  const { signal } = options;
  const emit = options.onProgress ?? (() => {});
  const concurrency = options.concurrency ?? 3;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RegistryError('INVALID_OPTION', `pull: concurrency ${concurrency} is not a positive integer`);
  }
  const reference = formatReference(ref);
  const signalOpt = signal ? { signal } : {};
  const ingestPrefix = `${ref.registry}/${ref.repository}@`;
  // The root document comes with one GET (as docker and skopeo pull): a HEAD first would only
  // add a round trip, since its body is needed anyway. Its digest is that of the bytes (checked
  // against Docker-Content-Digest, and against the reference's digest when it names one).
  const first = await fetchManifest(session, ref, { ...signalOpt, operation: 'pull' });
  const root = first.descriptor;
  emit({ type: 'resolved', reference, descriptor: root });

  // Walk indexes down to the platform's manifest, keeping the documents to store at the end.
  const documents: { desc: Descriptor; bytes: Buffer; kind: BlobKind }[] = [];
  const wanted: Platform =
    options.platform === undefined
      ? hostPlatform()
      : typeof options.platform === 'string'
        ? parsePlatform(options.platform)
        : normalizePlatform(options.platform);
  let current = root;
  let manifest: Manifest | undefined;
  for (let depth = 0; manifest === undefined; depth++) {
    const fetched =
      depth === 0
        ? first
        : await fetchManifest(session, ref, { ...signalOpt, operation: 'pull', expected: current });
    const doc = fetched.document;
    documents.push({ desc: current, bytes: fetched.bytes, kind: doc.kind });
    if (doc.kind === 'manifest') {
      manifest = doc.manifest;
      break;
    }
    if (depth >= MAX_INDEX_DEPTH) {
      throw new RegistryError(
        'INVALID_MANIFEST',
        `pull ${reference}: indexes nested deeper than ${MAX_INDEX_DEPTH}`,
        contextOf(ref),
      );
    }
    const index: Index = doc.index;
    const chosen = selectManifest(index, wanted);
    if (chosen === undefined) throw platformNotFound({ index, wanted, ref: reference });
    emit({ type: 'platform', platform: formatPlatform(chosen.platform ?? wanted), descriptor: chosen });
    current = chosen;
  }
  const manifestDesc: Descriptor = current;

  const blobs: { desc: Descriptor; kind: BlobKind }[] = [
    { desc: manifest.config, kind: 'config' },
    ...manifest.layers.map((desc) => ({ desc, kind: 'layer' as const })),
  ];
  const seen = new Set<string>();
  const unique = blobs.filter((b) => !seen.has(b.desc.digest) && seen.add(b.desc.digest));
  for (const b of unique) {
    emit({
      type: 'blob',
      phase: 'waiting',
      kind: b.kind,
      digest: b.desc.digest,
      mediaType: b.desc.mediaType,
      current: 0,
      total: b.desc.size,
    });
  }
  // `concurrency` limits downloads: a blob whose bytes are all in the sink commits (fsync,
  // rename) outside its slot, so the next download starts meanwhile. A failed commit stops the
  // pool like a failed download, and pull settles only after every commit has.
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const commits: Promise<void>[] = [];
  let commitError: { err: unknown } | undefined;
  // The manifest and its indexes go into their ingests while the blobs download, and are
  // committed after them (below); a failed pull drops them. They start once a first blob is
  // in: earlier, their file operations held back the first blob requests (one thread pool).
  let staged: Promise<ContentWriter | undefined>[] | undefined;
  const stage = () => {
    if (staged !== undefined) return;
    staged = documents.map((d) =>
      stageBytes(sink, `${ingestPrefix}${d.desc.digest}`, d.desc, d.bytes, stop.signal),
    );
    for (const p of staged) p.catch(() => {});
  };
  const dropStaged = async () => {
    const writers = await Promise.all((staged ?? []).map((p) => p.catch(() => undefined)));
    staged = [];
    await Promise.all(writers.map((w) => w?.abort().catch(() => {})));
  };
  try {
    try {
      const pool = runPool(unique, concurrency, stop.signal, async ({ desc, kind }, poolSignal) => {
        const base = {
          type: 'blob' as const,
          kind,
          digest: desc.digest,
          mediaType: desc.mediaType,
          total: desc.size,
        };
        const have = await sink.info(desc.digest, { signal: poolSignal });
        if (have !== undefined && have.size === desc.size) {
          emit({ ...base, phase: 'exists', current: desc.size });
          session.noteBlob(ref.registry, desc.digest, ref.repository);
          stage();
          return;
        }
        let received: () => void = () => {};
        const slot = new Promise<void>((resolve) => {
          received = resolve;
        });
        const fetched = fetchBlob(session, ref, desc, sink, {
          ingestRef: `${ingestPrefix}${desc.digest}`,
          signal: poolSignal,
          onProgress: (done, total) => emit({ ...base, phase: 'downloading', current: done, total }),
          onReceived: received,
        });
        // Until the bytes are in, a failure is this task's; after, it is the commit's.
        await Promise.race([slot, fetched]);
        stage();
        commits.push(
          fetched.then(
            () => {
              session.noteBlob(ref.registry, desc.digest, ref.repository);
              emit({ ...base, phase: 'done', current: desc.size });
            },
            (err: unknown) => {
              commitError ??= { err };
              stop.abort(err);
            },
          ),
        );
      });
      await pool;
    } finally {
      await Promise.all(commits);
      signal?.removeEventListener('abort', onAbort);
    }
    if (commitError !== undefined) throw commitError.err;

    // Manifest first, then its indexes: each document lands after what it names.
    stage();
    for (let i = documents.length - 1; i >= 0; i--) {
      const d = documents[i]!;
      const writer = await staged![i]!;
      staged![i] = Promise.resolve(undefined);
      if (writer === undefined) continue;
      try {
        await writer.commit(d.desc.size, d.desc.digest);
      } catch (err) {
        await writer.abort().catch(() => {});
        throw err;
      }
    }
  } catch (err) {
    await dropStaged();
    throw err;
  }
  const manifestWithPlatform: Descriptor = {
    mediaType: manifestDesc.mediaType,
    digest: manifestDesc.digest,
    size: manifestDesc.size,
    ...(manifestDesc.platform ? { platform: manifestDesc.platform } : {}),
  };
  if (options.tag !== false && sink.tag) {
    await sink.tag(options.tag ?? reference, manifestWithPlatform, signalOpt);
  } else {
    // A sink that defers directory fsyncs (the layout sink) makes the pulled blobs durable now.
    await (sink as { sync?: () => Promise<void> }).sync?.();
  }
  const result: PullResult = {
    reference,
    root,
    manifest: manifestWithPlatform,
    config: manifest.config,
    layers: manifest.layers,
  };
  emit({ type: 'done', reference, root, manifest: manifestWithPlatform });
  return result;
}
