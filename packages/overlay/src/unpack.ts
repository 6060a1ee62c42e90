import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOf, isBerthError, type Logger, parseDigest } from '@berth/oci';
import {
  type ApplyLayerOptions,
  type ApplyProgress,
  type ApplyResult,
  type ApplyTarget,
  applyLayer,
  applyLayerInto,
  fixImplicitDirs,
  type ImplicitDir,
} from './apply.js';
import { ApplyThreads } from './apply-thread.js';
import type { Usage } from './metadata.js';
import type { SnapshotInfo, Snapshotter } from './snapshotter.js';

/** Options of {@link unpackLayer}: {@link ApplyLayerOptions} without mounts, plus where. */
export interface UnpackLayerOptions extends Omit<ApplyLayerOptions, 'mounts' | 'diffId'> {
  /** The snapshotter to unpack into. */
  snapshotter: Snapshotter;
  /** Chain ID of the layers below (a committed snapshot), or undefined for a base layer. */
  parent?: string;
  /** The layer's diffID from the image config; the snapshot is committed only if it matches. */
  diffId: string;
}

/** What {@link unpackLayer} did. */
export interface UnpackResult {
  /** The committed snapshot's name: the chain ID of the layer stack. */
  chainId: string;
  /** The apply's measurements, or null when the snapshot already existed. */
  applied: ApplyResult | null;
}

/**
 * Unpacks one layer into a new committed snapshot named by its chain ID (image-spec
 * `ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))`): `prepare` an extraction key on the
 * parent, {@link applyLayer} into it in one streaming pass, verify the diffID, `commit`. On any
 * failure (bad entry, digest mismatch, abort) the extraction snapshot is removed, so nothing of
 * the layer remains. An existing snapshot of the same chain ID is reused without reading the
 * stream (a concurrent unpack of the same layer that loses the race does the same).
 * @throws everything {@link applyLayer} throws, and the snapshotter's errors
 */
export async function unpackLayer(options: UnpackLayerOptions): Promise<UnpackResult> {
  const { snapshotter: sn, parent } = options;
  const diffId = parseDigest(options.diffId, { field: 'rootfs.diff_ids' });
  const chainId = parent === undefined ? diffId : digestOf(`${parent} ${diffId}`);
  const exists = await sn.stat(chainId).then(
    (i) => i.kind === 'committed',
    () => false,
  );
  if (exists) return { chainId, applied: null };
  const key = `extract-${process.pid}-${randomBytes(6).toString('hex')} ${chainId}`;
  const mounts = await sn.prepare(key, parent, options.signal ? { signal: options.signal } : {});
  try {
    const gunzipAddon = await sn.gunzipAddon();
    const applied = await applyLayer({
      fsCalls: sn.fsCalls,
      ...(gunzipAddon === undefined ? {} : { gunzipAddon }),
      ...options,
      diffId,
      mounts,
    });
    try {
      await sn.commit(chainId, key, options.signal ? { signal: options.signal } : {});
    } catch (err) {
      if (!isBerthError(err, 'SNAPSHOT_EXISTS')) throw err;
      await sn.remove(key);
      return { chainId, applied: null };
    }
    return { chainId, applied };
  } catch (err) {
    await sn.remove(key).catch(() => undefined);
    throw err;
  }
}

/** One layer of {@link unpackLayers}. */
export interface LayerToUnpack {
  /** The layer's diffID from the image config. */
  diffId: string;
  /** The descriptor's media type (checked against the sniffed compression). */
  mediaType?: string;
  /** Expected digest of the blob as read. */
  digest?: string;
  /**
   * Opens the layer blob. Called when the layer's turn comes (at most `concurrency` at once), so
   * it may wait for a download to finish; not called for a layer whose snapshot exists.
   */
  open(signal?: AbortSignal): Promise<ApplyLayerOptions['stream']>;
  /**
   * Every chunk the opened stream yields is a buffer of its own that nothing else refers to: an
   * apply thread takes a whole one over (moved, not copied; {@link ApplyThreadOptions}).
   */
  movableChunks?: boolean;
  /** Apply progress of this layer. */
  onProgress?: (p: ApplyProgress) => void;
}

/** Options of {@link unpackLayers}. */
export interface UnpackLayersOptions {
  /** The snapshotter to unpack into. */
  snapshotter: Snapshotter;
  /** Chain ID of a committed snapshot below the first layer, if any. */
  parent?: string;
  /** The layers, bottom first. */
  layers: readonly LayerToUnpack[];
  /** Layers applied at once (overlay driver); default 3. The copy driver applies one by one. */
  concurrency?: number;
  /** One syncfs(2) before the first commit (default true); see {@link ApplyLayerOptions.sync}. */
  sync?: boolean;
  /**
   * Apply each layer on a worker thread of its own (overlay driver; default true), so layers
   * create their files on several cores at once; `false` applies them on this thread. An
   * {@link ApplyThreads} of the caller's (started early with `warm`, so that starting threads
   * overlaps with resolving the image) is used and left open: the caller closes it.
   */
  threads?: boolean | ApplyThreads;
  /** Called as each layer's snapshot is committed (or found), bottom first. */
  onCommitted?: (index: number, result: UnpackResult) => void;
  /** Structured logger. */
  logger?: Logger;
  /** Aborts the unpack; nothing of the unfinished layers remains. */
  signal?: AbortSignal;
}

/**
 * Unpacks a stack of layers into committed snapshots named by their chain IDs, and returns one
 * {@link UnpackResult} per layer. Layers whose chain snapshot exists are skipped.
 *
 * With the overlay driver the layers are applied in parallel: a layer's directory in overlay
 * form depends on nothing below it, so each is applied into a snapshot prepared without a
 * parent ({@link applyLayer}'s checks and refusals unchanged; its writes never leave the
 * layer's own directory). When all are applied, bottom first, each layer's implicit parent
 * directories take the attributes of the directories below (and a lower symlink on their path is
 * refused, `LAYER_UNSAFE_PATH`, as in a sequential apply); then one syncfs(2) covers every
 * layer; then each is committed on its parent ({@link Snapshotter.commit} with `parent`). So a
 * snapshot is committed only after its data is synced. On any failure no layer of the batch is
 * committed and every extraction snapshot is removed. The copy driver unpacks one layer at a
 * time ({@link unpackLayer}): each snapshot starts as a copy of its parent.
 * @throws everything {@link unpackLayer} throws
 */
export async function unpackLayers(options: UnpackLayersOptions): Promise<UnpackResult[]> {
  const { snapshotter: sn, layers, signal } = options;
  const so = signal ? { signal } : {};
  const diffIds = layers.map((l) => parseDigest(l.diffId, { field: 'rootfs.diff_ids' }));
  const chains: string[] = [];
  for (const d of diffIds) {
    const below = chains.at(-1) ?? options.parent;
    chains.push(below === undefined ? d : digestOf(`${below} ${d}`));
  }
  const results: UnpackResult[] = [];
  // chain IDs include everything below, so the existing snapshots are a prefix
  let first = 0;
  while (first < chains.length && (await committed(sn, chains[first] as string))) {
    results.push({ chainId: chains[first] as string, applied: null });
    options.onCommitted?.(first, results[first] as UnpackResult);
    first++;
  }
  if (first === chains.length) return results;
  const base = first === 0 ? options.parent : chains[first - 1];

  if (sn.driver !== 'overlay') {
    for (let i = first; i < layers.length; i++) {
      const l = layers[i] as LayerToUnpack;
      const stream = await l.open(signal);
      const below = i === 0 ? options.parent : chains[i - 1];
      const r = await unpackLayer({
        snapshotter: sn,
        ...(below === undefined ? {} : { parent: below }),
        ...layerOptions(l, options),
        stream,
      }).finally(() => destroy(stream));
      results.push(r);
      options.onCommitted?.(i, r);
    }
    return results;
  }

  interface Job {
    index: number;
    key: string;
    dir: string;
    applied?: ApplyResult;
    implicit: ImplicitDir[];
    usage?: Usage;
  }
  const jobs: Job[] = [];
  const own = !(options.threads instanceof ApplyThreads);
  const threads = options.threads instanceof ApplyThreads ? options.threads : new ApplyThreads();
  let prepared: Promise<unknown> = Promise.resolve();
  const closeOwn = async () => {
    if (own) await threads.close();
  };
  try {
    const n = Math.max(1, Math.min(options.concurrency ?? 3, layers.length - first));
    // the threads start while the snapshots are prepared
    if (options.threads !== false) threads.warm(n);
    const gunzipAddon = await sn.gunzipAddon();
    // Every extraction snapshot is prepared at once; a layer starts as soon as its own is
    // ready. Cleanup waits until every prepare has settled, so it knows them all.
    const slots: (Job | undefined)[] = [];
    const ready = layers.slice(first).map(async (_, k): Promise<Job> => {
      const index = first + k;
      const key = `extract-${process.pid}-${randomBytes(6).toString('hex')} ${chains[index]}`;
      // the bottom layer of the whole image is an ordinary parentless snapshot (whiteouts
      // deleted, nothing to hide); every other one is in overlay form for a parent set at commit
      const mounts = await sn.prepare(key, undefined, so);
      const job: Job = { index, key, dir: '', implicit: [] };
      slots[k] = job;
      // a parentless active snapshot is a bind of its directory
      const m = mounts.length === 1 ? mounts[0] : undefined;
      job.dir = m?.type === 'bind' ? m.source : (await sn.stat(key)).dir;
      return job;
    });
    const settledPrepares = Promise.allSettled(ready).then((all) => {
      for (const job of slots) if (job !== undefined) jobs.push(job);
      return all;
    });
    prepared = settledPrepares;
    // the first failure stops the other workers; cleanup waits until none is writing
    const ac = new AbortController();
    const stop = () => ac.abort(signal?.reason);
    signal?.addEventListener('abort', stop, { once: true });
    let next = 0;
    // Writeback starts as each layer is done (`sync -f` in the background, one at a time), so the
    // syncfs before the commits waits only for what the last layers wrote, not for the whole
    // image: the disk writes while the other threads still extract.
    let running = ready.length;
    let flushing: Promise<unknown> | undefined;
    let again = false;
    const flushEarly = (): void => {
      if (options.sync === false || ac.signal.aborted) return;
      if (flushing) {
        again = true;
        return;
      }
      flushing = sn.fsCalls
        .syncfs(sn.root, { signal: ac.signal })
        .catch(() => undefined)
        .finally(() => {
          flushing = undefined;
          if (again) {
            again = false;
            flushEarly();
          }
        });
    };
    const worker = async () => {
      while (next < ready.length) {
        const job = await (ready[next++] as Promise<Job>);
        ac.signal.throwIfAborted();
        const l = layers[job.index] as LayerToUnpack;
        const bottom = job.index === 0 && options.parent === undefined;
        const stream = await l.open(ac.signal);
        try {
          const target: ApplyTarget = { root: job.dir, lowers: [], whiteouts: bottom ? 'delete' : 'overlay' };
          const applyOptions = {
            ...layerOptions(l, options),
            fsCalls: sn.fsCalls,
            ...(gunzipAddon === undefined ? {} : { gunzipAddon }),
            stream,
            diffId: diffIds[job.index] as string,
            signal: ac.signal,
          };
          if (options.threads !== false) {
            const done = await threads.apply(
              target,
              l.movableChunks === true ? { ...applyOptions, movableChunks: true } : applyOptions,
              !bottom,
            );
            job.applied = done.result;
            job.implicit = done.implicit;
            job.usage = done.usage;
          } else {
            const { result, implicit } = await applyLayerInto(
              target,
              { ...applyOptions, sync: false },
              !bottom,
            );
            job.applied = result;
            job.implicit = implicit;
          }
        } finally {
          destroy(stream);
        }
        if (--running > 0) flushEarly();
      }
    };
    let failure: { err: unknown } | undefined;
    const settled = await Promise.allSettled(
      Array.from({ length: n }, () =>
        worker().catch((err: unknown) => {
          failure ??= { err };
          ac.abort(err);
          throw err;
        }),
      ),
    );
    signal?.removeEventListener('abort', stop);
    await closeOwn();
    const refused = (await settledPrepares).find((r) => r.status === 'rejected');
    if (failure) throw failure.err;
    if (refused) throw refused.reason;
    void settled;

    // bottom first, each against the complete directories below it
    const baseDirs = base === undefined ? [] : await chainDirs(sn, base);
    for (const [j, job] of jobs.entries()) {
      const lowers = [
        ...jobs
          .slice(0, j)
          .map((x) => x.dir)
          .reverse(),
        ...baseDirs,
      ];
      fixImplicitDirs(job.dir, lowers, job.implicit);
    }
    if (options.sync !== false) await sn.fsCalls.syncfs(sn.root, signal ? { signal } : {});
    again = false;
    await flushing;
    // one metadata write commits the whole stack, bottom first, each on the one below
    const outcome = await sn.commitAll(
      jobs.map((job) => {
        const below = job.index === 0 ? options.parent : chains[job.index - 1];
        return {
          name: chains[job.index] as string,
          key: job.key,
          options: {
            ...(below === undefined ? {} : { parent: below }),
            ...(job.usage === undefined ? {} : { usage: job.usage }),
          },
        };
      }),
      so,
    );
    for (const [j, job] of jobs.entries()) {
      let applied: ApplyResult | null = job.applied ?? null;
      if (outcome[j] === 'exists') {
        await sn.remove(job.key); // a concurrent unpack of the same layer won
        applied = null;
      }
      job.key = '';
      results.push({ chainId: chains[job.index] as string, applied });
      options.onCommitted?.(job.index, results.at(-1) as UnpackResult);
    }
    return results;
  } catch (err) {
    await prepared;
    for (const job of [...jobs].reverse())
      if (job.key !== '') await sn.remove(job.key).catch(() => undefined);
    throw err;
  } finally {
    await closeOwn();
  }
}

async function committed(sn: Snapshotter, name: string): Promise<boolean> {
  return sn.stat(name).then(
    (i) => i.kind === 'committed',
    () => false,
  );
}

/** The `fs` directories of a committed snapshot and its ancestors, nearest first. */
async function chainDirs(sn: Snapshotter, name: string): Promise<string[]> {
  const out: string[] = [];
  for (let p: string | undefined = name; p !== undefined; ) {
    const info: SnapshotInfo = await sn.stat(p);
    out.push(info.dir);
    p = info.parent;
  }
  return out;
}

function layerOptions(l: LayerToUnpack, o: UnpackLayersOptions) {
  return {
    diffId: l.diffId,
    ...(l.mediaType === undefined ? {} : { mediaType: l.mediaType }),
    ...(l.digest === undefined ? {} : { digest: l.digest }),
    ...(l.onProgress === undefined ? {} : { onProgress: l.onProgress }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  };
}

function destroy(stream: ApplyLayerOptions['stream']): void {
  if (stream instanceof Readable) stream.destroy();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the extraction snapshots of {@link unpackLayer} and {@link unpackLayers} that a process
 * left when it died mid-unpack (`kill -9`): active snapshots whose key names a process that no
 * longer runs. Nothing else removes them (an active snapshot is in use for garbage collection).
 * Returns how many were removed.
 */
export async function removeStaleExtractions(sn: Snapshotter): Promise<number> {
  let removed = 0;
  for (const s of await sn.walk()) {
    const m = /^extract-(\d{1,10})-/.exec(s.name);
    if (s.kind !== 'active' || m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      await sn.remove(s.name);
      removed++;
    } catch (err) {
      // another process reaped it first
      if (!isBerthError(err, 'SNAPSHOT_NOT_FOUND')) throw err;
    }
  }
  return removed;
}
