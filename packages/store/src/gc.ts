/**
 * Garbage collection and disk usage (containerd's `gc` mark-and-sweep, docker's `system df`).
 *
 * Mark: every `index.json` entry (tagged, digest-named or dangling), every unexpired lease's
 * resources and the caller's roots are live; a live manifest makes its config and layers live,
 * a live index its manifests. Snapshots are live when an image's layer chain names them (chain
 * IDs of its diff IDs), a lease or the caller holds them, or the snapshotter says they are in
 * use; a live snapshot's parents are live. Sweep: blobs nothing reached are deleted, and the
 * snapshotter is told which snapshots nothing reached.
 *
 * Safety against concurrent writers: collection runs under the image store's lock (no tag
 * moves meanwhile) and lists the blobs *before* reading the leases. A writer adds its blob to
 * its lease before committing it (`writer({ lease })`), so any blob in the listing that a
 * lease protects is seen as protected. Blobs committed without a lease and not yet tagged can
 * be collected: use a lease.
 */
import {
  chainIds,
  type Descriptor,
  type Digest,
  isBerthError,
  type Logger,
  MAX_DOCUMENT_BYTES,
  parseImageDocument,
  silentLogger,
} from '@berth/oci';
import type { ContentStore, Info } from './content.js';
import type { ImageRecord, ImageStore } from './images.js';
import { type Lease, type LeaseManager, leaseExpired } from './leases.js';

/** One snapshot as the snapshotter reports it. "key" is an active snapshot, "name" a committed one; both are given as `key`. */
export interface SnapshotEntry {
  /** The snapshot's key (active) or name (committed, a chain ID for image layers). */
  key: string;
  /** Its parent's name, when stacked on one. */
  parent?: string;
  /** True when the snapshotter itself needs it (a container's active snapshot, a mounted view). */
  inUse?: boolean;
}

/**
 * The snapshot side of garbage collection, implemented by `@berth/overlay` (wired by the engine):
 * the store marks, the snapshotter removes.
 */
export interface SnapshotCollector {
  /** Every snapshot the snapshotter holds. */
  walk(opts: { signal?: AbortSignal }): Promise<SnapshotEntry[]>;
  /** Removes snapshots nothing reaches, given children before parents. */
  sweep(keys: string[], opts: { signal?: AbortSignal }): Promise<void>;
}

/** Options for {@link collectGarbage}. */
export interface CollectGarbageOptions {
  /** The content store to sweep. */
  content: ContentStore;
  /** The image store whose references are roots (and whose lock is held while collecting). */
  images: ImageStore;
  /** Leases whose resources are roots; expired leases are deleted. */
  leases?: LeaseManager;
  /** The snapshotter, told which snapshots nothing reaches. */
  snapshots?: SnapshotCollector;
  /** Extra roots from the caller: blobs (e.g. a build cache) and snapshot keys (containers' layers). */
  roots?: { content?: Iterable<Digest>; snapshots?: Iterable<string> };
  /** Report what would go, delete nothing. */
  dryRun?: boolean;
  /** Structured logger; silent by default. */
  logger?: Logger;
  /** Aborts between steps. */
  signal?: AbortSignal;
}

/** What {@link collectGarbage} removed (or, with `dryRun`, would remove). */
export interface CollectGarbageResult {
  /** Swept blobs. */
  removedBlobs: Info[];
  /** Their total size. */
  reclaimedBytes: number;
  /** Snapshots nothing reaches, children first (swept through the collector unless `dryRun`). */
  unreachedSnapshots: string[];
  /** Leases deleted because they expired. */
  expiredLeases: string[];
}

/** The children of a blob: a manifest's config and layers (leaves), an index's manifests. */
async function childrenOf(
  content: ContentStore,
  digest: Digest,
  signal?: AbortSignal,
): Promise<{ kids: Descriptor[]; leaves: boolean }> {
  const none = { kids: [], leaves: true };
  const info = await content.info(digest, { signal });
  if (info === undefined || info.size > MAX_DOCUMENT_BYTES || info.size < 2) return none;
  const r = await content.readerAt(digest, { signal });
  try {
    // Not '{': a layer or another binary blob, never parsed.
    if ((await r.readAt(0, 1))[0] !== 0x7b) return none;
  } finally {
    await r.close();
  }
  try {
    const doc = parseImageDocument(await content.readBlob(digest, { signal }));
    if (doc.kind === 'manifest') return { kids: [doc.manifest.config, ...doc.manifest.layers], leaves: true };
    if (doc.kind === 'index') return { kids: doc.index.manifests, leaves: false };
  } catch (err) {
    // Not an image document (a config, an artifact): a leaf.
    if (!isBerthError(err)) throw err;
  }
  return none;
}

/** Marks everything reachable from `roots`. */
async function markContent(
  content: ContentStore,
  roots: Iterable<Digest>,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const live = new Set<string>();
  const queue: Array<{ digest: Digest; leaf: boolean }> = [];
  for (const d of roots) queue.push({ digest: d, leaf: false });
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    signal?.throwIfAborted();
    if (live.has(next.digest)) continue;
    live.add(next.digest);
    if (next.leaf) continue;
    const { kids, leaves } = await childrenOf(content, next.digest, signal);
    for (const k of kids) queue.push({ digest: k.digest, leaf: leaves });
  }
  return live;
}

/**
 * Runs one mark-and-sweep collection (see the module doc). Throws what the stores throw
 * (`STORE_CORRUPT` for an unreadable `index.json`, `LOCK_FAILED` from the locker), or the signal's reason.
 */
export async function collectGarbage(opts: CollectGarbageOptions): Promise<CollectGarbageResult> {
  const { content, images, leases, snapshots, signal } = opts;
  const logger = opts.logger ?? silentLogger;
  const result: CollectGarbageResult = {
    removedBlobs: [],
    reclaimedBytes: 0,
    unreachedSnapshots: [],
    expiredLeases: [],
  };
  await images.withLock(
    async () => {
      // 1. List blobs first (see the module doc for why the order matters).
      const blobs: Info[] = [];
      for await (const i of content.walk({ signal })) blobs.push(i);
      // 2. Roots.
      if (leases !== undefined && opts.dryRun !== true)
        result.expiredLeases = await leases.removeExpired({ signal });
      const active: Lease[] = [];
      for (const l of (await leases?.list({ signal })) ?? []) if (!(await leaseExpired(l))) active.push(l);
      const entries = await images.entries({ signal });
      const contentRoots: Digest[] = [...entries.map((e) => e.digest), ...(opts.roots?.content ?? [])];
      const snapshotRoots = new Set<string>(opts.roots?.snapshots ?? []);
      for (const lease of active) {
        for (const r of lease.resources) {
          if (r.type === 'content') contentRoots.push(r.digest);
          else snapshotRoots.add(r.key);
        }
      }
      // 3. Mark.
      const live = await markContent(content, contentRoots, signal);
      // 4. Sweep blobs.
      for (const b of blobs) {
        if (live.has(b.digest)) continue;
        signal?.throwIfAborted();
        if (opts.dryRun !== true) {
          try {
            await content.delete(b.digest, { signal });
          } catch (err) {
            if (!isBerthError(err, 'BLOB_NOT_FOUND')) throw err;
            continue;
          }
        }
        logger.debug('gc: blob removed', { digest: b.digest, size: b.size });
        result.removedBlobs.push(b);
        result.reclaimedBytes += b.size;
      }
      // 5. Snapshots.
      if (snapshots !== undefined) {
        for (const e of entries) {
          let rec: ImageRecord;
          try {
            rec = await images.record(e, { signal });
          } catch (err) {
            if (!isBerthError(err)) throw err;
            continue;
          }
          for (const c of chainIds(rec.diffIds)) snapshotRoots.add(c);
        }
        const all = await snapshots.walk({ signal });
        const parentOf = new Map(all.map((s) => [s.key, s.parent]));
        const reached = new Set<string>();
        for (const s of all) if (s.inUse === true) snapshotRoots.add(s.key);
        for (let key of snapshotRoots) {
          while (!reached.has(key)) {
            reached.add(key);
            const p = parentOf.get(key);
            if (p === undefined) break;
            key = p;
          }
        }
        const depth = (key: string): number => {
          let n = 0;
          const seen = new Set<string>();
          for (let k: string | undefined = key; k !== undefined && !seen.has(k); k = parentOf.get(k)) {
            seen.add(k);
            n += 1;
          }
          return n;
        };
        result.unreachedSnapshots = all
          .filter((s) => !reached.has(s.key))
          .map((s) => ({ key: s.key, depth: depth(s.key) }))
          .sort((a, b) => b.depth - a.depth)
          .map((s) => s.key);
        if (opts.dryRun !== true && result.unreachedSnapshots.length > 0) {
          await snapshots.sweep(result.unreachedSnapshots, { signal });
        }
      }
    },
    { signal },
  );
  if (opts.dryRun !== true) await images.pruneRecords({ signal });
  logger.info('gc done', {
    blobs: result.removedBlobs.length,
    bytes: result.reclaimedBytes,
    snapshots: result.unreachedSnapshots.length,
  });
  return result;
}

/** One image in {@link DiskUsage}. */
export interface ImageUsage {
  /** Image ID. */
  id: Digest;
  /** Its tags. */
  repoTags: string[];
  /** Bytes of content it uses. */
  size: number;
  /** Bytes of that also used by other images. */
  sharedSize: number;
  /** Bytes only it uses. */
  uniqueSize: number;
  /** True when the caller said a container uses it. */
  active: boolean;
}

/** docker `system df` numbers for images and content. */
export interface DiskUsage {
  /** Per image (`system df -v`). */
  images: ImageUsage[];
  /** Bytes of content the images use, shared blobs counted once (docker's SIZE). */
  size: number;
  /** Bytes no active image uses (docker's RECLAIMABLE). */
  reclaimable: number;
  /** Number of active images. */
  active: number;
  /** Bytes of every blob in the store, referenced or not. */
  contentSize: number;
}

/**
 * Computes disk usage from the image records (no blob parsing beyond uncached records).
 * `activeImageIds` are the images containers use (the engine knows them).
 */
export async function diskUsage(opts: {
  content: ContentStore;
  images: ImageStore;
  activeImageIds?: Iterable<string>;
  signal?: AbortSignal;
}): Promise<DiskUsage> {
  const activeIds = new Set(opts.activeImageIds ?? []);
  const list = await opts.images.list({ signal: opts.signal });
  const blobsOf = (img: (typeof list)[number]): Map<string, number> => {
    const m = new Map<string, number>();
    m.set(img.target.digest, img.target.size);
    m.set(img.manifest.digest, img.manifest.size);
    m.set(img.config.digest, img.config.size);
    for (const l of img.layers) m.set(l.digest, l.size);
    return m;
  };
  const perImage = list.map((img) => ({ img, blobs: blobsOf(img) }));
  const users = new Map<string, number>();
  const sizes = new Map<string, number>();
  const activeBlobs = new Set<string>();
  for (const { img, blobs } of perImage) {
    for (const [d, s] of blobs) {
      users.set(d, (users.get(d) ?? 0) + 1);
      sizes.set(d, s);
      if (activeIds.has(img.id)) activeBlobs.add(d);
    }
  }
  const images: ImageUsage[] = perImage.map(({ img, blobs }) => {
    let size = 0;
    let shared = 0;
    for (const [d, s] of blobs) {
      size += s;
      if ((users.get(d) ?? 0) > 1) shared += s;
    }
    return {
      id: img.id,
      repoTags: img.repoTags,
      size,
      sharedSize: shared,
      uniqueSize: size - shared,
      active: activeIds.has(img.id),
    };
  });
  let size = 0;
  let reclaimable = 0;
  for (const [d, s] of sizes) {
    size += s;
    if (!activeBlobs.has(d)) reclaimable += s;
  }
  let contentSize = 0;
  for await (const i of opts.content.walk({ signal: opts.signal })) contentSize += i.size;
  return { images, size, reclaimable, active: images.filter((i) => i.active).length, contentSize };
}
