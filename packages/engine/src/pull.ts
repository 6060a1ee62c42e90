/**
 * `pull`: resolve with the registry client, download into the store under a lease, and unpack
 * every layer into a snapshot named by its chain ID while it downloads: each layer's bytes are
 * fed to its unpack (a worker thread, `@berth/overlay`'s `unpackLayers`) as the store receives
 * them. Layers download 3 at once and unpack one per core at once; snapshots are committed
 * when every blob and diffID is verified. Progress is reported with docker's words.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { buffer } from 'node:stream/consumers';
import {
  BerthError,
  type ContentSink,
  chainIds,
  type Descriptor,
  type Digest,
  familiarReference,
  formatReference,
  hostPlatform,
  type Manifest,
  type Platform,
  parseImageConfig,
  parsePlatform,
  parseReference,
  platformNotFound,
  type Reference,
  selectManifest,
  withDefaultTag,
} from '@berth/oci';
import type { LayerToUnpack } from '@berth/overlay';
import type { EngineContext } from './context.js';
import { EngineErrorCode } from './errors.js';
import { LayerFeed, teeWriter } from './layer-feed.js';
import { type ImageProgressHandler, progress, shortId } from './progress.js';

/** Options of {@link ImageService.pull}. */
export interface PullImageOptions {
  /** `os/arch[/variant]` to pick from a multi-platform image; default the host's. */
  platform?: string;
  /** Pull every tag of the repository (`docker pull -a`). */
  allTags?: boolean;
  /** Layers downloaded at once; default 3 (docker's `max-concurrent-downloads`). */
  concurrency?: number;
  /** Receives docker-shaped progress. */
  onProgress?: ImageProgressHandler;
  signal?: AbortSignal;
}

/** One image a pull stored. */
export interface PullImageResult {
  /** Full normalised reference: `docker.io/library/busybox:latest`. */
  reference: string;
  /** Familiar reference: `busybox:latest`. */
  familiar: string;
  /** What the reference resolved to (an index or a manifest): docker's `Digest:` line. */
  digest: Digest;
  /** The image ID (config digest). */
  id: Digest;
  /** `downloaded` when the name now points at new content, else `up-to-date`. */
  status: 'downloaded' | 'up-to-date';
}

const MAX_INDEX_DEPTH = 4;
/** A config up to this size is read into memory first (they are a few KiB); a bigger one is stored first. */
const MAX_MEMORY_CONFIG = 8 * 1024 * 1024;
const PROGRESS_STEP = 256 * 1024;

/** Writes a small document (manifest, index) into the sink unless present. */
async function putDocument(sink: ContentSink, desc: Descriptor, bytes: Buffer, signal?: AbortSignal) {
  if ((await sink.info(desc.digest, signal ? { signal } : {}))?.size === desc.size) return;
  const writer = await sink.writer({ ref: `engine-doc-${desc.digest}`, desc, ...(signal ? { signal } : {}) });
  try {
    if (writer.offset > 0) {
      await writer.abort();
      return putDocument(sink, desc, bytes, signal);
    }
    await writer.write(bytes);
    await writer.commit(desc.size, desc.digest);
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** undici's connection events (diagnostics_channel), around the first connection of the process. */
const BEFORE_CONNECT = 'undici:client:beforeConnect';
const CONNECTED = 'undici:client:connected';
const CONNECT_ERROR = 'undici:client:connectError';
/** The WebAssembly flags {@link liftoffAtFirstConnect} sets, and what sets them back (Node's defaults). */
const WASM_QUIET = '--liftoff-only --no-wasm-lazy-compilation';
const WASM_DEFAULT = '--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering --wasm-lazy-compilation';
/** The parser is compiled (once per process), or a watch for it is set. */
let llhttp: 'compiled' | 'watching' | undefined;
/** The flags are set now. */
let quiet = false;

/**
 * `node:v8` and `node:diagnostics_channel`, required by a pull, not at import: `berth run` of a
 * present image loads neither (a require: the CLI's `vm.Script` bundle has no loader for
 * `import()` of a built-in).
 */
const builtin = <T>(name: string): T => createRequire(import.meta.url ?? '/')(name) as T;
const v8 = () => builtin<typeof import('node:v8')>('node:v8');
const channels = () => builtin<typeof import('node:diagnostics_channel')>('node:diagnostics_channel');

function quietOn(): void {
  if (quiet) return;
  quiet = true;
  v8().setFlagsFromString(WASM_QUIET);
}

function quietOff(): void {
  if (!quiet) return;
  quiet = false;
  v8().setFlagsFromString(WASM_DEFAULT);
}

function compiled(): void {
  quietOff();
  llhttp = 'compiled';
  const dc = channels();
  dc.unsubscribe(BEFORE_CONNECT, quietOn);
  dc.unsubscribe(CONNECTED, compiled);
  dc.unsubscribe(CONNECT_ERROR, quietOff);
}

/**
 * The registry client's HTTP parser (undici's llhttp) is WebAssembly, compiled in the process's
 * first connection. With V8's defaults its hot functions are then recompiled by TurboFan on a
 * background thread while the blobs arrive (~0.1-0.15 s of CPU and ~20 MB of RSS per pull, for a
 * parser that only finds the body's bounds). So the first connection compiles it eagerly with
 * Liftoff only (`--liftoff-only --no-wasm-lazy-compilation`), and the flags are set back as soon
 * as it is connected: only for that instant, because while any V8 flag differs from node's
 * build, node refuses its built-ins' code cache (the apply threads start meanwhile and compile
 * theirs) and a code cache the CLI writes at exit would carry flags the next run does not start
 * with. Set at run time, not on node's command line (node's start would refuse that cache too).
 * Does nothing once the parser is compiled, or when the client connects through something else.
 * @returns sets the flags back if the first connection never came (call when the pull ends)
 */
function liftoffAtFirstConnect(): () => void {
  if (llhttp === undefined) {
    llhttp = 'watching';
    const dc = channels();
    dc.subscribe(BEFORE_CONNECT, quietOn);
    dc.subscribe(CONNECTED, compiled);
    // a failed connection compiled nothing: the next one sets the flags again
    dc.subscribe(CONNECT_ERROR, quietOff);
  }
  return quietOff;
}

/** Runs `fn` over `items` with at most `limit` at once; the first failure aborts the rest. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/**
 * Pulls one reference (with a tag or a digest). Throws the registry's errors
 * (`MANIFEST_UNKNOWN`, `UNAUTHORIZED`, `DIGEST_MISMATCH`…), `PLATFORM_NOT_FOUND`, the overlay's
 * layer errors (the partial snapshot is removed), or the signal's reason.
 */
export async function pullOne(
  ctx: EngineContext,
  ref: Reference,
  opts: PullImageOptions,
): Promise<PullImageResult> {
  const settle = liftoffAtFirstConnect();
  try {
    return await pullWith(ctx, ref, opts);
  } finally {
    settle();
  }
}

async function pullWith(
  ctx: EngineContext,
  ref: Reference,
  opts: PullImageOptions,
): Promise<PullImageResult> {
  const { store } = ctx;
  const [sn, registry, { unpackLayers, removeStaleExtractions, ApplyThreads }] = await Promise.all([
    ctx.snapshotter(),
    ctx.registry(),
    ctx.overlay(),
  ]);
  const emit = opts.onProgress ?? (() => {});
  const outer = opts.signal;
  const ac = new AbortController();
  const onAbort = () => ac.abort(outer?.reason);
  if (outer?.aborted) throw outer.reason;
  outer?.addEventListener('abort', onAbort, { once: true });
  const signal = ac.signal;
  const full = formatReference(ref);
  const familiar = familiarReference(ref);
  const wanted: Platform = opts.platform === undefined ? hostPlatform() : parsePlatform(opts.platform);
  // An apply thread starts now (~130 ms of CPU, on another core) while the image resolves; the
  // unpack starts the others it needs. Closed at the end, whatever happens.
  const threads = new ApplyThreads();
  threads.warm(1);
  // The store's bookkeeping and the registry's answer do not wait for each other. A pull killed
  // mid-unpack left its extraction snapshots: they go before this one adds its own.
  const staleRemoved = removeStaleExtractions(sn);
  const leased = store.leases.create({ expiresIn: 24 * 3600 * 1000, labels: { 'berth.pull': full } });
  const named = store.images
    .entries({ signal })
    .then((all) => all.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === full));
  const resolved = registry.resolve(ref, { signal });
  const started = [staleRemoved, leased, named, resolved];
  for (const p of started) p.catch(() => undefined); // each is awaited below
  let lease: Awaited<typeof leased>;
  try {
    lease = await leased;
  } catch (err) {
    outer?.removeEventListener('abort', onAbort);
    ac.abort(err);
    await Promise.allSettled(started);
    await threads.close();
    throw err;
  }
  const sink: ContentSink = {
    info: (d, o) => store.info(d, o),
    writer: (o) => store.writer({ ...o, lease: lease.id }),
  };
  try {
    emit(progress(`Pulling from ${ref.repository}`, ref.tag ?? ref.digest));
    const root = await resolved;
    // Walk indexes down to the platform's manifest, keeping the documents to store at the end.
    const documents: { desc: Descriptor; bytes: Buffer }[] = [];
    let current: Descriptor = root;
    let manifest: Manifest | undefined;
    for (let depth = 0; manifest === undefined; depth++) {
      const fetched = await registry.getManifest(ref, { descriptor: current, signal });
      documents.push({ desc: current, bytes: fetched.bytes });
      const doc = fetched.document;
      if (doc.kind === 'manifest') {
        manifest = doc.manifest;
        break;
      }
      if (depth >= MAX_INDEX_DEPTH) {
        throw new BerthError(
          'INVALID_MANIFEST',
          `pull ${full}: indexes nested deeper than ${MAX_INDEX_DEPTH}`,
          {
            input: { ref: full },
          },
        );
      }
      const chosen = selectManifest(doc.index, wanted);
      if (chosen === undefined) throw platformNotFound({ index: doc.index, wanted, ref: full });
      current = chosen;
    }

    // The config first: its diff IDs name the snapshots. A missing config is read straight
    // from the registry (verified) and stored while the layers download, so the snapshots are
    // prepared without waiting for the store's fsyncs; it is stored before the manifest.
    const configDesc = manifest.config;
    let configBytes: Buffer;
    let configStored: Promise<void> = Promise.resolve();
    if ((await store.info(configDesc.digest, { signal }))?.size === configDesc.size) {
      configBytes = await store.content.readBlob(configDesc.digest, { signal });
    } else if (configDesc.size <= MAX_MEMORY_CONFIG) {
      // the stream is verified: it errors on a size or digest mismatch
      configBytes = await buffer(await registry.openBlob(ref, configDesc, { signal }));
      configStored = putDocument(sink, configDesc, configBytes, signal);
      configStored.catch(() => undefined); // awaited before the manifest is stored
    } else {
      await registry.fetchBlob(ref, configDesc, sink, { signal });
      configBytes = await store.content.readBlob(configDesc.digest, { signal });
    }
    const config = parseImageConfig(configBytes);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new BerthError(
        EngineErrorCode.LAYER_DIFF_ID_MISMATCH,
        `pull ${full}: the manifest has ${manifest.layers.length} layers, the config ${diffIds.length} diff IDs`,
        { input: { ref: full } },
      );
    }
    const chains = chainIds(diffIds);
    const layers = manifest.layers;

    // What is here already.
    const hasBlob = await Promise.all(
      layers.map(async (l) => (await store.info(l.digest, { signal }))?.size === l.size),
    );
    const hasSnap = await Promise.all(
      chains.map((c) =>
        sn.stat(c).then(
          (i) => i.kind === 'committed',
          () => false,
        ),
      ),
    );
    const downloaded = new Map<string, Deferred>();
    const toFetch: Descriptor[] = [];
    layers.forEach((l, i) => {
      if (hasBlob[i] && hasSnap[i]) {
        emit(progress('Already exists', shortId(l.digest)));
        return;
      }
      if (downloaded.has(l.digest)) return;
      const d = deferred();
      downloaded.set(l.digest, d);
      if (hasBlob[i]) d.resolve();
      else {
        toFetch.push(l);
        emit(progress('Pulling fs layer', shortId(l.digest)));
      }
    });
    const concurrency = opts.concurrency ?? 3;
    for (const l of toFetch.slice(concurrency)) emit(progress('Waiting', shortId(l.digest)));
    for (const c of chains)
      await store.leases.addResource(lease.id, { type: 'snapshot', key: c }, { signal });

    // Each layer to unpack gets a feed: the bytes of its download as they arrive (so a worker
    // thread decompresses and creates its files while the download runs), or, when the
    // download did not start at byte 0 (an ingest an earlier process left) or the blob was here
    // already, the stored blob once it is complete. The snapshot is committed only after the
    // blob's digest is verified by the store and the diffID by the apply.
    const feeds = new Map<string, LayerFeed[]>();
    const live = new Map<number, LayerFeed>();
    const opened: LayerFeed[] = [];
    // a stored blob is read 1 MiB at a time: one message to the apply thread per read
    const stored = (digest: string) => () =>
      store.content.createReadStream(digest as Digest, { highWaterMark: 1024 * 1024, signal });
    layers.forEach((l, i) => {
      // the first use of a blob that downloads, in a layer to unpack
      if (hasSnap[i] || hasBlob[i] || [...live.keys()].some((j) => layers[j]?.digest === l.digest)) return;
      const f = new LayerFeed(stored(l.digest));
      live.set(i, f);
      feeds.set(l.digest, [f]);
    });
    // The unpack opens its first layers (one per thread) as soon as it has prepared its
    // snapshots: their downloads wait for it rather than turn to the stored blob. It opens layers
    // in order, so opening one releases any earlier feed it skipped.
    const threadCount = Math.min(layers.length, Math.max(2, availableParallelism()));
    const missing = hasSnap.indexOf(false);
    if (missing >= 0) {
      for (let i = missing; i < Math.min(layers.length, missing + threadCount); i++) live.get(i)?.expect();
    }
    const opening = (i: number) => {
      for (const [j, f] of live) if (j < i) f.release();
    };
    const fromStore = (digest: string): LayerFeed => {
      const f = new LayerFeed(stored(digest));
      f.useStore();
      opened.push(f);
      const d = downloaded.get(digest);
      (d ? d.promise : Promise.resolve()).then(
        () => f.downloaded(),
        (err: unknown) => f.fail(err),
      );
      return f;
    };
    const feedSink = (digest: string): ContentSink => ({
      info: (d, o) => sink.info(d, o),
      writer: async (o) => teeWriter(await sink.writer(o), feeds.get(digest) ?? [], signal),
    });

    const download = pool(toFetch, concurrency, async (l) => {
      const id = shortId(l.digest);
      const d = downloaded.get(l.digest) as Deferred;
      try {
        let last = -PROGRESS_STEP;
        await registry.fetchBlob(ref, l, feedSink(l.digest), {
          signal,
          onProgress: (done, total) => {
            if (done - last < PROGRESS_STEP && done < total) return;
            last = done;
            emit(progress('Downloading', id, done, total));
          },
        });
        emit(progress('Verifying Checksum', id));
        emit(progress('Download complete', id));
        for (const f of feeds.get(l.digest) ?? []) void f.downloaded();
        d.resolve();
      } catch (err) {
        for (const f of feeds.get(l.digest) ?? []) f.fail(err);
        d.reject(err);
        throw err;
      }
    });
    const toUnpack: LayerToUnpack[] = layers.map((l, i) => {
      const id = shortId(l.digest);
      let last = -PROGRESS_STEP;
      return {
        diffId: diffIds[i] as string,
        mediaType: l.mediaType,
        // called only for the layers whose snapshot is missing
        open: async () => {
          opening(i);
          return (live.get(i) ?? fromStore(l.digest)).open();
        },
        // a live feed gets copies of its own (the store's writer keeps no chunks, teeWriter), a
        // stored blob fresh buffers of its file reads: the apply thread takes them over
        movableChunks: true,
        onProgress: (p) => {
          if (p.read - last < PROGRESS_STEP && p.read < l.size) return;
          last = p.read;
          emit(progress('Extracting', id, p.read, l.size));
        },
      };
    });
    await staleRemoved;
    const extract = unpackLayers({
      snapshotter: sn,
      layers: toUnpack,
      // a worker thread per core, each taking the next layer when done (a layer that waits for
      // one reads its stored blob, LayerFeed); more threads than cores only cost CPU and memory
      concurrency: threadCount,
      threads,
      logger: ctx.logger,
      signal,
      onCommitted: (i) => {
        const l = layers[i] as Descriptor;
        if (!(hasBlob[i] && hasSnap[i])) emit(progress('Pull complete', shortId(l.digest)));
      },
    }).finally(() => {
      for (const f of [...live.values(), ...opened]) f.close();
    });
    const failed = (err: unknown) => {
      ac.abort(err);
      throw err;
    };
    await Promise.all([download.catch(failed), extract.catch(failed)]);

    // Documents last, manifest before its indexes, so the store holds a manifest only once
    // everything it names is there; then the name.
    await configStored;
    for (const d of [...documents].reverse()) await putDocument(sink, d.desc, d.bytes, signal);
    // what the name pointed at before this pull (read at its start, settled before the tag)
    const before = await named;
    if (ref.tag !== undefined) await store.tag(full, root, { signal });
    else await store.images.tag(full, root, { signal });
    emit(progress(`Digest: ${root.digest}`));
    const upToDate = before?.digest === root.digest;
    emit(
      progress(
        upToDate
          ? `Status: Image is up to date for ${familiar}`
          : `Status: Downloaded newer image for ${familiar}`,
      ),
    );
    return {
      reference: full,
      familiar,
      digest: root.digest,
      id: manifest.config.digest,
      status: upToDate ? 'up-to-date' : 'downloaded',
    };
  } finally {
    outer?.removeEventListener('abort', onAbort);
    await Promise.allSettled(started);
    await threads.close();
    await store.leases.delete(lease.id).catch(() => undefined);
  }
}

/** `pull` of a user's reference: the default tag, or every tag with `allTags`. */
export async function pullImage(
  ctx: EngineContext,
  input: string,
  opts: PullImageOptions,
): Promise<PullImageResult[]> {
  const parsed = parseReference(input);
  if (!opts.allTags) return [await pullOne(ctx, withDefaultTag(parsed), opts)];
  if (parsed.tag !== undefined || parsed.digest !== undefined) {
    throw new BerthError(EngineErrorCode.INVALID_OPTION, "tag can't be used with --all-tags/-a", {
      input: { ref: input },
    });
  }
  const tags = await (await ctx.registry()).listTags(parsed, opts.signal ? { signal: opts.signal } : {});
  const out: PullImageResult[] = [];
  for (const tag of tags) out.push(await pullOne(ctx, { ...parsed, tag }, opts));
  return out;
}
