/**
 * Images: names pointing at manifests, kept in the content layout's `index.json`, and image
 * records cached beside it for fast listing.
 *
 * Terms. A **reference entry** is one `index.json` descriptor (a manifest or an index) whose
 * `org.opencontainers.image.ref.name` annotation is a full normalised reference: a tag
 * (`docker.io/library/busybox:latest`) or a digest reference (`docker.io/library/busybox@sha256:…`,
 * which is how `RepoDigests` are kept). An entry without the annotation keeps a **dangling**
 * image (docker's `<none>:<none>`) alive after its tag moved. An **image** is everything that
 * resolves to one config digest, its **ID** (docker's image ID). A **record** is what listing
 * needs (config ID, created, size, platform, layers, diff IDs, labels); records are derived
 * from immutable blobs, so they are cached by target digest and never go stale.
 *
 * Every change to `index.json` happens under a cross-process lock (`<path>/lock`) and is
 * written temp → fsync → rename, so readers never need the lock.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BerthError,
  type Descriptor,
  type Digest,
  type FileLocker,
  familiarName,
  familiarReference,
  formatPlatform,
  hostPlatform,
  type Index,
  isBerthError,
  isIndexType,
  isManifestType,
  type Logger,
  MediaType,
  type Platform,
  parseDigest,
  parseImageDocument,
  parseIndex,
  parsePlatform,
  parseReference,
  type Reference,
  referenceName,
  selectManifest,
  silentLogger,
  withDefaultTag,
} from '@berth/oci';
import type { ContentStore } from './content.js';
import { StoreErrorCode } from './errors.js';
import { isErrno, writeFileAtomic } from './fs-util.js';
import { compileGlob } from './glob.js';
import { lockfileLocker, withLock } from './lock.js';

/** The annotation that names an index entry (image-spec `annotations.md`). */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

const MAX_INDEX_BYTES = 256 * 1024 * 1024;
const MAX_NESTING = 4;

/** What listing needs about one stored manifest or index, derived from its blobs. */
export interface ImageRecord {
  /** The config digest: docker's image ID. */
  id: Digest;
  /** The resolved single-platform manifest. */
  manifest: Descriptor;
  /** The config blob. */
  config: Descriptor;
  /** RFC 3339 creation time from the config, when set. */
  created?: string;
  /**
   * Bytes of content the image uses in the store: the target (and any index on the way), the
   * manifest, the config and the compressed layers.
   */
  size: number;
  /** The image's platform, from its config. */
  platform: Platform;
  /** The layer descriptors, base first. */
  layers: Descriptor[];
  /** The uncompressed layer digests (`rootfs.diff_ids`), base first. */
  diffIds: Digest[];
  /** Config labels. */
  labels: Record<string, string>;
}

/** One image as listed: a record plus every name that points at it. */
export interface Image extends ImageRecord {
  /** The index.json descriptor it was found through (the first named one). */
  target: Descriptor;
  /** Tags, full normalised (`docker.io/library/busybox:latest`); the CLI shortens them. */
  repoTags: string[];
  /** Digest references, full normalised (`docker.io/library/busybox@sha256:…`). */
  repoDigests: string[];
  /** True when the image has no tag. */
  dangling: boolean;
}

/** Filters of {@link ImageStore.list}, as `docker images --filter` takes them. */
export interface ImageFilters {
  /** `dangling=true` lists only untagged images, `false` only tagged ones. */
  dangling?: boolean;
  /**
   * `reference=PATTERN` (Go `path.Match` against the familiar `name:tag` or `name`); several
   * patterns match any. A matched image lists only its matching tags and digests.
   */
  reference?: string[];
  /** `label=KEY` or `label=KEY=VALUE`; several must all match. */
  label?: string[];
}

/** One line of {@link ImageStore.remove}'s answer, as docker's `ImageDeleteResponseItem`. */
export type RemoveResult = { untagged: string } | { deleted: Digest };

/** Options for {@link ImageStore.tag}. */
export interface TagOptions {
  /** Also record `repository@digest` as a digest reference (what a pull does for `RepoDigests`). */
  repoDigest?: boolean;
  /** Aborts. */
  signal?: AbortSignal;
}

/** Options for {@link ImageStore.remove}. */
export interface RemoveOptions {
  /** Remove even when tagged in several repositories or in use (docker's `rmi -f`). */
  force?: boolean;
  /** Tells whether a container uses the image; such an image needs `force`. */
  inUse?: (id: Digest) => boolean | Promise<boolean>;
  /** Aborts. */
  signal?: AbortSignal;
}

/** The image store. Reads are lock-free; writes lock across processes. */
export interface ImageStore {
  /**
   * Points `name` at `desc` (a manifest or index that is already in the content store). The
   * name is normalised (`busybox` → `docker.io/library/busybox:latest`). The image that `name`
   * pointed at before stays, dangling when nothing else names it. Throws `INVALID_REFERENCE`,
   * `BLOB_NOT_FOUND`, or the document errors when `desc` is not a usable image.
   */
  tag(name: string, desc: Descriptor, opts?: TagOptions): Promise<void>;
  /**
   * {@link tag} for several names at once (`load` of an archive of many images): every target is
   * checked first, then one lock, one `index.json` and one records write, in order (a later
   * name wins). Nothing is tagged when any target is unusable.
   */
  tagAll(tags: readonly { name: string; desc: Descriptor }[], opts?: TagOptions): Promise<void>;
  /** Removes one name; the image stays (dangling when it was the last). Throws `IMAGE_NOT_FOUND`. */
  untag(name: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * docker's `rmi`: by name, untags (and deletes the image when that was its last tag); by ID,
   * deletes the image with all its names. Blobs stay until garbage collection. Throws
   * `IMAGE_NOT_FOUND`, `IMAGE_AMBIGUOUS`, or `IMAGE_CONFLICT` (tagged in several repositories,
   * or in use, without `force`).
   */
  remove(refOrId: string, opts?: RemoveOptions): Promise<RemoveResult[]>;
  /** Every image, newest first, optionally filtered. Throws `INVALID_FILTER`. */
  list(opts?: { filters?: ImageFilters; signal?: AbortSignal }): Promise<Image[]>;
  /**
   * Finds one image by docker's lookup rules: a full ID (`sha256:<hex>` or 64 hex), a
   * `name[:tag]` (default tag `latest`) or `name@digest`, then a unique ID prefix. Throws
   * `IMAGE_NOT_FOUND` or `IMAGE_AMBIGUOUS`.
   */
  get(refOrId: string, opts?: { signal?: AbortSignal }): Promise<Image>;
  /** The raw `index.json` entries (validated). */
  entries(opts?: { signal?: AbortSignal }): Promise<Descriptor[]>;
  /** The record for one stored manifest or index, from the cache or its blobs. */
  record(desc: Descriptor, opts?: { signal?: AbortSignal }): Promise<ImageRecord>;
  /**
   * Drops cached records whose target no longer has an `index.json` entry (garbage collection
   * calls it). Returns how many were dropped.
   */
  pruneRecords(opts?: { signal?: AbortSignal }): Promise<number>;
  /**
   * Runs `fn` holding the index lock (garbage collection marks and sweeps inside it). The lock
   * is not re-entrant: `fn` must not call `tag`, `untag`, `remove` or `pruneRecords`.
   */
  withLock<T>(fn: () => Promise<T>, opts?: { signal?: AbortSignal }): Promise<T>;
}

/** Options for {@link createImageStore}. */
export interface ImageStoreOptions {
  /** The content store whose `index.json` holds the references. */
  content: ContentStore;
  /** Directory for the records cache and the lock (`<root>/images`); created when missing. */
  path: string;
  /** The platform an index resolves to (default: the host). */
  platform?: Platform | string;
  /**
   * The cross-process lock around `index.json` changes (`<path>/lock`). Default: proper-lockfile
   * (pure JS; a holder killed with `kill -9` blocks others for up to 10 s). `@berth/engine`
   * passes `@berth/runtime`'s flock(2) locker. Every process using this store must use the same kind.
   */
  locker?: FileLocker;
  /** Structured logger; silent by default. */
  logger?: Logger;
}

interface RecordsFile {
  version: 1;
  platform: string;
  records: Record<string, ImageRecord>;
}

function notFound(ref: string): BerthError<'IMAGE_NOT_FOUND'> {
  return new BerthError(StoreErrorCode.IMAGE_NOT_FOUND, `image ${JSON.stringify(ref)}: no such image`, {
    input: { ref },
  });
}

function corrupt(what: string, why: string, cause?: unknown): BerthError<'STORE_CORRUPT'> {
  return new BerthError(StoreErrorCode.STORE_CORRUPT, `${what}: ${why}`, {
    input: { field: what },
    ...(cause === undefined ? {} : { cause }),
  });
}

function nameOf(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME_ANNOTATION];
}

function entry(desc: Descriptor, name?: string): Descriptor {
  const d: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  if (desc.platform !== undefined) d.platform = desc.platform;
  if (name !== undefined) d.annotations = { [REF_NAME_ANNOTATION]: name };
  return d;
}

/** Normalises a name for tagging: `busybox` → `docker.io/library/busybox:latest`. */
function normalizeName(name: string): { ref: Reference; full: string } {
  const ref = withDefaultTag(parseReference(name));
  if (ref.tag !== undefined && ref.digest !== undefined) {
    throw new BerthError(
      'INVALID_REFERENCE',
      `reference ${JSON.stringify(name)}: refusing to create a tag with a digest reference`,
      {
        input: { ref: name },
      },
    );
  }
  const full = `${referenceName(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
  return { ref, full };
}

/** Entries that are images (a manifest or an index); other named content is skipped. */
function isImage(d: Descriptor): boolean {
  return isManifestType(d.mediaType) || isIndexType(d.mediaType);
}

function isDigestName(name: string): boolean {
  return name.includes('@');
}

function repoOf(name: string): string {
  const at = name.indexOf('@');
  if (at !== -1) return name.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/**
 * Images newest first by their creation time (an instant, so `+02:00` and `Z` times compare
 * right); images without a readable time last; ties keep index order. Numbers, not
 * `localeCompare`, which builds an ICU collator on first use (~15 ms of every listing).
 */
function newestFirst(images: Image[]): Image[] {
  const keyed = images.map((img, i) => {
    const t = img.created === undefined ? Number.NaN : Date.parse(img.created);
    return { img, i, t: Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t };
  });
  keyed.sort((a, b) => (a.t === b.t ? a.i - b.i : b.t > a.t ? 1 : -1));
  return keyed.map((k) => k.img);
}

/** Familiar forms of a stored full name, for reference filters. */
function familiarForms(name: string): string[] {
  try {
    const r = parseReference(name);
    return [familiarReference(r), familiarName(r)];
  } catch {
    return [name];
  }
}

/**
 * Opens the image store over a content store.
 *
 * @example
 * ```ts
 * const images = await createImageStore({ content, path: '/var/lib/berth/images' });
 * await images.tag('busybox', manifestDesc);
 * (await images.get('busybox')).id; // sha256:… (the config digest)
 * ```
 */
export async function createImageStore(opts: ImageStoreOptions): Promise<ImageStore> {
  const { content } = opts;
  const logger = opts.logger ?? silentLogger;
  const locker = opts.locker ?? lockfileLocker;
  const platform =
    opts.platform === undefined
      ? hostPlatform()
      : typeof opts.platform === 'string'
        ? parsePlatform(opts.platform)
        : opts.platform;
  const platformKey = formatPlatform(platform);
  mkdirSync(opts.path, { recursive: true });
  const indexPath = join(content.path, 'index.json');
  const recordsPath = join(opts.path, 'records.json');
  const lockPath = join(opts.path, 'lock');

  async function readIndex(signal?: AbortSignal): Promise<Index> {
    signal?.throwIfAborted();
    let bytes: Buffer;
    try {
      bytes = readFileSync(indexPath);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
      throw err;
    }
    try {
      return parseIndex(bytes, { maxBytes: MAX_INDEX_BYTES });
    } catch (err) {
      throw corrupt(indexPath, (err as Error).message, err);
    }
  }

  async function writeIndex(manifests: Descriptor[], signal?: AbortSignal): Promise<void> {
    const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
    await writeFileAtomic(indexPath, `${JSON.stringify(index)}\n`, { signal });
  }

  async function readRecords(): Promise<Record<string, ImageRecord>> {
    try {
      const f = JSON.parse(readFileSync(recordsPath, 'utf8')) as RecordsFile;
      if (
        f.version !== 1 ||
        f.platform !== platformKey ||
        typeof f.records !== 'object' ||
        f.records === null
      ) {
        return {};
      }
      return f.records;
    } catch (err) {
      // A missing or unreadable cache is rebuilt from the blobs.
      if (!isErrno(err, 'ENOENT')) logger.warn('image records unreadable, rebuilding', { path: recordsPath });
      return {};
    }
  }

  /** Merges `add` into the records file (and drops `drop`), under the lock the caller holds. */
  async function mergeRecords(
    add: Record<string, ImageRecord>,
    keep?: (digest: string) => boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    const records = await readRecords();
    Object.assign(records, add);
    if (keep !== undefined) {
      for (const k of Object.keys(records)) if (!keep(k)) delete records[k];
    }
    const f: RecordsFile = { version: 1, platform: platformKey, records };
    await writeFileAtomic(recordsPath, JSON.stringify(f), { signal });
  }

  async function readDoc(desc: Descriptor, signal?: AbortSignal) {
    const bytes = await content.readBlob(desc.digest, { signal });
    if (bytes.byteLength !== desc.size)
      throw corrupt(desc.digest, `size ${bytes.byteLength}, descriptor says ${desc.size}`);
    return { bytes, doc: parseImageDocument(bytes, desc.mediaType) };
  }

  async function resolve(desc: Descriptor, signal?: AbortSignal, depth = 0, extra = 0): Promise<ImageRecord> {
    if (depth > MAX_NESTING) throw corrupt(desc.digest, 'indexes nested too deeply');
    const { doc } = await readDoc(desc, signal);
    if (doc.kind === 'index') {
      // The wanted platform first; else any manifest of the index the store holds.
      const preferred = selectManifest(doc.index, platform);
      const candidates = [...(preferred === undefined ? [] : [preferred]), ...doc.index.manifests];
      for (const child of candidates) {
        if ((await content.info(child.digest, { signal })) === undefined) continue;
        try {
          return await resolve(child, signal, depth + 1, extra + desc.size);
        } catch (err) {
          if (isBerthError(err, 'BLOB_NOT_FOUND')) continue;
          throw err;
        }
      }
      throw new BerthError(
        StoreErrorCode.BLOB_NOT_FOUND,
        `index ${desc.digest}: no manifest of it is in the store`,
        {
          input: { field: desc.digest },
        },
      );
    }
    if (doc.kind !== 'manifest') throw corrupt(desc.digest, `a ${doc.kind} is not an image`);
    const m = doc.manifest;
    const { doc: cdoc } = await readDoc({ ...m.config, mediaType: MediaType.OciConfig }, signal);
    if (cdoc.kind !== 'config') throw corrupt(m.config.digest, 'not an image config');
    const config = cdoc.config;
    const layersSize = m.layers.reduce((n, l) => n + l.size, 0);
    const p: Platform = { os: config.os, architecture: config.architecture };
    if (config.variant !== undefined) p.variant = config.variant;
    const rec: ImageRecord = {
      id: parseDigest(m.config.digest),
      manifest: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size },
      config: { mediaType: m.config.mediaType, digest: m.config.digest, size: m.config.size },
      size: extra + desc.size + m.config.size + layersSize,
      platform: p,
      layers: m.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      diffIds: config.rootfs.diff_ids,
      labels: config.config?.Labels ?? {},
    };
    if (config.created !== undefined) rec.created = config.created;
    return rec;
  }

  async function record(desc: Descriptor, o: { signal?: AbortSignal } = {}): Promise<ImageRecord> {
    const cached = (await readRecords())[desc.digest];
    if (cached !== undefined) return cached;
    return resolve(desc, o.signal);
  }

  interface Snapshot {
    manifests: Descriptor[];
    images: Image[];
    /** Target digest → image ID. */
    idOf: Map<string, Digest>;
  }

  /** Reads index.json and the records; `locked` when the caller already holds the lock. */
  async function load(signal?: AbortSignal, locked = false): Promise<Snapshot> {
    const [index, records] = await Promise.all([readIndex(signal), readRecords()]);
    const missing: Record<string, ImageRecord> = {};
    const byId = new Map<string, Image>();
    const idOf = new Map<string, Digest>();
    for (const d of index.manifests) {
      if (!isImage(d)) continue;
      let rec = records[d.digest] ?? missing[d.digest];
      if (rec === undefined) {
        try {
          rec = await resolve(d, signal);
          missing[d.digest] = rec;
        } catch (err) {
          if (signal?.aborted) throw err;
          logger.warn('skipping an index entry that does not resolve', {
            digest: d.digest,
            name: nameOf(d),
            error: (err as Error).message,
          });
          continue;
        }
      }
      idOf.set(d.digest, rec.id);
      let img = byId.get(rec.id);
      if (img === undefined) {
        img = { ...rec, target: entry(d), repoTags: [], repoDigests: [], dangling: true };
        byId.set(rec.id, img);
      }
      const name = nameOf(d);
      if (name === undefined) continue;
      if (img.repoTags.length === 0 && img.repoDigests.length === 0) img.target = entry(d);
      if (isDigestName(name)) {
        if (!img.repoDigests.includes(name)) img.repoDigests.push(name);
      } else if (!img.repoTags.includes(name)) img.repoTags.push(name);
      img.dangling = img.repoTags.length === 0;
    }
    if (Object.keys(missing).length > 0) {
      // Cache what was derived so the next list reads no blobs; best effort.
      try {
        if (locked) await mergeRecords(missing, undefined, signal);
        else await withLock(locker, lockPath, () => mergeRecords(missing, undefined, signal), { signal });
      } catch (err) {
        logger.warn('could not cache image records', { error: (err as Error).message });
      }
    }
    return { manifests: index.manifests, images: newestFirst([...byId.values()]), idOf };
  }

  function matchLabel(img: Image, filter: string): boolean {
    const eq = filter.indexOf('=');
    if (eq === -1) return Object.hasOwn(img.labels, filter);
    const key = filter.slice(0, eq);
    return Object.hasOwn(img.labels, key) && img.labels[key] === filter.slice(eq + 1);
  }

  async function list(o: { filters?: ImageFilters; signal?: AbortSignal } = {}): Promise<Image[]> {
    const f = o.filters ?? {};
    const patterns = (f.reference ?? []).map(compileGlob);
    for (const l of f.label ?? []) {
      if (l === '' || l.startsWith('=')) {
        throw new BerthError(StoreErrorCode.INVALID_FILTER, `filter label=${JSON.stringify(l)}: empty key`, {
          input: { field: 'label' },
        });
      }
    }
    const { images } = await load(o.signal);
    const out: Image[] = [];
    for (const img of images) {
      if (f.dangling !== undefined && img.dangling !== f.dangling) continue;
      if (!(f.label ?? []).every((l) => matchLabel(img, l))) continue;
      if (patterns.length > 0) {
        const matches = (n: string): boolean => familiarForms(n).some((s) => patterns.some((p) => p.test(s)));
        const repoTags = img.repoTags.filter(matches);
        const repoDigests = img.repoDigests.filter(matches);
        if (repoTags.length === 0 && repoDigests.length === 0) continue;
        out.push({ ...img, repoTags, repoDigests });
      } else out.push(img);
    }
    return out;
  }

  function find(snap: Snapshot, refOrId: string): Image {
    const byId = (id: string): Image | undefined => snap.images.find((i) => i.id === id);
    if (typeof refOrId !== 'string' || refOrId.length === 0 || refOrId.length > 1024)
      throw notFound(String(refOrId));
    // 1. A full ID.
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(refOrId);
    if (full !== null) {
      const id = `sha256:${full[1]}`;
      const img =
        byId(id) ??
        snap.images.find((i) =>
          snap.manifests.some((d) => d.digest === id && snap.idOf.get(d.digest) === i.id),
        );
      if (img !== undefined) return img;
      throw notFound(refOrId);
    }
    // 2. A name: name@digest or name[:tag].
    let ref: Reference | undefined;
    try {
      ref = withDefaultTag(parseReference(refOrId));
    } catch {
      ref = undefined;
    }
    if (ref !== undefined) {
      const repo = referenceName(ref);
      if (ref.digest !== undefined) {
        const digest = ref.digest;
        const hit = snap.manifests.find(
          (d) => d.digest === digest && nameOf(d) !== undefined && repoOf(nameOf(d) as string) === repo,
        );
        const id = hit === undefined ? undefined : snap.idOf.get(hit.digest);
        if (id !== undefined) return byId(id) as Image;
      } else {
        const wanted = `${repo}:${ref.tag}`;
        const hit = snap.manifests.find((d) => nameOf(d) === wanted);
        const id = hit === undefined ? undefined : snap.idOf.get(hit.digest);
        if (id !== undefined) return byId(id) as Image;
      }
    }
    // 3. A unique ID prefix.
    const prefix = /^(?:sha256:)?([a-f0-9]{1,63})$/.exec(refOrId);
    if (prefix !== null) {
      const hits = snap.images.filter((i) => i.id.startsWith(`sha256:${prefix[1]}`));
      if (hits.length === 1) return hits[0] as Image;
      if (hits.length > 1) {
        throw new BerthError(
          StoreErrorCode.IMAGE_AMBIGUOUS,
          `image ${JSON.stringify(refOrId)}: ambiguous ID prefix, ${hits.length} images match`,
          {
            input: { ref: refOrId },
          },
        );
      }
    }
    throw notFound(refOrId);
  }

  async function get(refOrId: string, o: { signal?: AbortSignal } = {}): Promise<Image> {
    return find(await load(o.signal), refOrId);
  }

  /** Keeps a dangling entry for each target in `orphans` that no entry references any more. */
  function keepOrphans(manifests: Descriptor[], orphans: Descriptor[]): Descriptor[] {
    const out = [...manifests];
    for (const o of orphans) {
      if (!out.some((d) => d.digest === o.digest)) out.push(entry(o));
    }
    return out;
  }

  async function tag(name: string, desc: Descriptor, o: TagOptions = {}): Promise<void> {
    await tagAll([{ name, desc }], o);
  }

  async function tagAll(
    tags: readonly { name: string; desc: Descriptor }[],
    o: TagOptions = {},
  ): Promise<void> {
    const planned: { full: string; names: string[]; target: Descriptor }[] = [];
    const recs: Record<string, ImageRecord> = {};
    for (const { name, desc } of tags) {
      const { ref, full } = normalizeName(name);
      const target = entry({
        mediaType: desc.mediaType,
        digest: parseDigest(desc.digest, { field: 'desc.digest' }),
        size: desc.size,
        ...(desc.platform === undefined ? {} : { platform: desc.platform }),
      });
      if (ref.digest !== undefined && ref.digest !== target.digest) {
        throw new BerthError(
          'INVALID_REFERENCE',
          `reference ${JSON.stringify(name)}: digest does not match ${target.digest}`,
          {
            input: { ref: name },
          },
        );
      }
      const names = [full];
      if (o.repoDigest === true && ref.digest === undefined)
        names.push(`${referenceName(ref)}@${target.digest}`);
      if ((await content.info(target.digest, o)) === undefined) {
        throw new BerthError(
          StoreErrorCode.BLOB_NOT_FOUND,
          `tag ${full}: content ${target.digest}: not found`,
          {
            input: { ref: name },
          },
        );
      }
      // Resolve an image before locking: checks it is usable and its blobs are present. Other
      // content (an artifact) may be named too, as in any OCI layout, but is not an image.
      if (isImage(target) && recs[target.digest] === undefined) recs[target.digest] = await record(target, o);
      planned.push({ full, names, target });
    }
    if (planned.length === 0) return;
    await withLock(
      locker,
      lockPath,
      async () => {
        let manifests = (await readIndex(o.signal)).manifests;
        for (const { names, target } of planned) {
          const replaced = manifests.filter((d) => {
            const n = nameOf(d);
            return n !== undefined && names.includes(n) && d.digest !== target.digest;
          });
          manifests = manifests.filter((d) => {
            const n = nameOf(d);
            if (n === undefined) return d.digest !== target.digest;
            return !names.includes(n);
          });
          manifests.push(...names.map((n) => entry(target, n)));
          manifests = keepOrphans(manifests, replaced);
        }
        if (Object.keys(recs).length > 0) await mergeRecords(recs, undefined, o.signal);
        await writeIndex(manifests, o.signal);
      },
      o,
    );
    for (const { full, target } of planned) logger.debug('tagged', { name: full, digest: target.digest });
  }

  async function untag(name: string, o: { signal?: AbortSignal } = {}): Promise<void> {
    const { full } = normalizeName(name);
    await withLock(
      locker,
      lockPath,
      async () => {
        const index = await readIndex(o.signal);
        const removed = index.manifests.filter((d) => nameOf(d) === full);
        if (removed.length === 0) throw notFound(name);
        const manifests = keepOrphans(
          index.manifests.filter((d) => nameOf(d) !== full),
          removed,
        );
        await writeIndex(manifests, o.signal);
      },
      o,
    );
  }

  async function remove(refOrId: string, o: RemoveOptions = {}): Promise<RemoveResult[]> {
    return withLock(
      locker,
      lockPath,
      async () => {
        const snap = await load(o.signal, true);
        const img = find(snap, refOrId);
        const results: RemoveResult[] = [];
        const idFor = (d: Descriptor): Digest | undefined => snap.idOf.get(d.digest);
        const namesOfImage = (ms: Descriptor[]): string[] =>
          ms.filter((d) => idFor(d) === img.id && nameOf(d) !== undefined).map((d) => nameOf(d) as string);
        // docker's isSingleReference: at most one tag, all names in one repository.
        const single = (names: string[]): boolean =>
          names.filter((n) => !isDigestName(n)).length <= 1 && new Set(names.map(repoOf)).size <= 1;
        let manifests = snap.manifests;
        const byId =
          /^(?:sha256:)?[a-f0-9]{1,64}$/.test(refOrId) &&
          img.id.startsWith(refOrId.startsWith('sha256:') ? refOrId : `sha256:${refOrId}`);
        const inUse = o.inUse === undefined ? false : await o.inUse(img.id);
        if (!byId) {
          const { full } = normalizeName(refOrId);
          if (!manifests.some((d) => nameOf(d) === full)) throw notFound(refOrId);
          const removedName = full;
          let names = namesOfImage(manifests);
          if (!o.force && inUse && single(names)) {
            throw new BerthError(
              StoreErrorCode.IMAGE_CONFLICT,
              `image ${JSON.stringify(refOrId)}: conflict: unable to remove repository reference (must force) - container is using its referenced image ${img.id.slice(7, 19)}`,
              { input: { ref: refOrId } },
            );
          }
          manifests = manifests.filter((d) => nameOf(d) !== removedName);
          results.push({ untagged: removedName });
          names = names.filter((n) => n !== removedName);
          // A removed tag takes the digest references of its repository along when no other
          // tag of that repository is left (docker's image_delete.go).
          if (!isDigestName(removedName)) {
            const repo = repoOf(removedName);
            if (!names.some((n) => !isDigestName(n) && repoOf(n) === repo)) {
              for (const n of names.filter((n) => isDigestName(n) && repoOf(n) === repo)) {
                manifests = manifests.filter((d) => nameOf(d) !== n);
                results.push({ untagged: n });
              }
              names = names.filter((n) => !(isDigestName(n) && repoOf(n) === repo));
            }
          }
          if (names.length > 0) {
            await writeIndex(manifests, o.signal);
            return results;
          }
        } else {
          const names = namesOfImage(manifests);
          if (!single(names) && !o.force) {
            throw new BerthError(
              StoreErrorCode.IMAGE_CONFLICT,
              `image ${JSON.stringify(refOrId)}: conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
              { input: { ref: refOrId } },
            );
          }
          for (const n of names) results.push({ untagged: n });
        }
        if (inUse && !o.force) {
          throw new BerthError(
            StoreErrorCode.IMAGE_CONFLICT,
            `image ${JSON.stringify(refOrId)}: conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is being used by a container`,
            { input: { ref: refOrId } },
          );
        }
        manifests = manifests.filter((d) => idFor(d) !== img.id);
        results.push({ deleted: img.id });
        await writeIndex(manifests, o.signal);
        return results;
      },
      o,
    );
  }

  async function pruneRecords(o: { signal?: AbortSignal } = {}): Promise<number> {
    return withLock(
      locker,
      lockPath,
      async () => {
        const index = await readIndex(o.signal);
        const live = new Set(index.manifests.map((d) => d.digest as string));
        const before = Object.keys(await readRecords()).length;
        await mergeRecords({}, (k) => live.has(k), o.signal);
        return before - Object.keys(await readRecords()).length;
      },
      o,
    );
  }

  return {
    tag,
    tagAll,
    untag,
    remove,
    list,
    get,
    record,
    pruneRecords,
    entries: async (o = {}) => (await readIndex(o.signal)).manifests,
    withLock: (fn, o = {}) => withLock(locker, lockPath, fn, o),
  };
}
