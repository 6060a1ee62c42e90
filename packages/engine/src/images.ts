/**
 * The read and bookkeeping side of the image service: list, inspect, history, tag, remove,
 * prune and disk usage, in the shapes of the Docker Engine API (`ImageSummary`,
 * `ImageInspect`, `HistoryResponseItem`, `ImageDeleteResponseItem`), which the CLI formats and
 * the daemon serves as is.
 */
import {
  BerthError,
  chainIds,
  type Digest,
  familiarReference,
  isBerthError,
  parseImageConfig,
  parseReference,
  withDefaultTag,
} from '@berth/oci';
import type { Image, ImageFilters } from '@berth/store';
import { collect, type EngineContext } from './context.js';
import { EngineErrorCode, noSuchImage } from './errors.js';

/** One image as `GET /images/json` lists it. */
export interface ImageSummary {
  /** `sha256:…`, the config digest. */
  Id: Digest;
  /** Always `''` (no parent chains in a content-addressed store). */
  ParentId: string;
  /** Familiar tags: `busybox:latest`. */
  RepoTags: string[];
  /** Familiar digest references: `busybox@sha256:…`. */
  RepoDigests: string[];
  /** Creation time, Unix seconds (0 when the config has none). */
  Created: number;
  /** Bytes of content the image uses in the store (manifest, config, compressed layers). */
  Size: number;
  /** Not computed: -1, as docker answers without `shared-size`. */
  SharedSize: number;
  /** Config labels. */
  Labels: Record<string, string>;
  /** Not computed: -1. */
  Containers: number;
}

/** Filters of {@link ImageService.list}, as `docker images --filter` takes them. */
export interface ListImagesOptions {
  /** `dangling=true|false`. */
  dangling?: boolean;
  /** `reference=PATTERN`, several match any. */
  reference?: string[];
  /** `label=KEY[=VALUE]`, all must match. */
  label?: string[];
  /** `before=IMAGE`: images created before it. */
  before?: string;
  /** `since=IMAGE`: images created after it. */
  since?: string;
  signal?: AbortSignal;
}

/** docker's `ImageInspect`. */
export interface ImageInspect {
  Id: Digest;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: Record<string, unknown> | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
  /** berth's own: the manifest or index the first name points at. */
  Descriptor: { mediaType: string; digest: string; size: number };
}

/** One line of `docker history` (`HistoryResponseItem`). */
export interface ImageHistoryItem {
  /** The image ID for the top entry, `<missing>` for the others (as docker shows pulled images). */
  Id: string;
  /** Unix seconds. */
  Created: number;
  CreatedBy: string;
  /** Tags of the image, on the top entry. */
  Tags: string[] | null;
  /** Bytes the layer holds on disk (0 for an empty layer). */
  Size: number;
  Comment: string;
}

/** One line of `rmi`/`prune`'s answer (`ImageDeleteResponseItem`). */
export type ImageDeleteItem = { Untagged: string } | { Deleted: Digest };

/** What `prune` removed. */
export interface ImagePruneReport {
  ImagesDeleted: ImageDeleteItem[];
  /** Bytes of blobs and snapshots removed. */
  SpaceReclaimed: number;
}

/** `system df` numbers for images. */
export interface ImageDiskUsage {
  total: number;
  active: number;
  /** Bytes, shared content counted once. */
  size: number;
  /** Bytes no active image uses. */
  reclaimable: number;
  /** Per image: `system df -v`. */
  images: {
    id: Digest;
    repoTags: string[];
    size: number;
    sharedSize: number;
    uniqueSize: number;
    active: boolean;
  }[];
}

/** Shortens a full stored name for users: `docker.io/library/busybox:latest` → `busybox:latest`. */
export function familiar(name: string): string {
  try {
    return familiarReference(parseReference(name));
  } catch {
    return name;
  }
}

const created = (img: Image): number => {
  const t = img.created === undefined ? Number.NaN : Date.parse(img.created);
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
};

/** Maps store lookups to docker's `No such image` text. */
export async function getImage(ctx: EngineContext, refOrId: string, signal?: AbortSignal): Promise<Image> {
  try {
    return await ctx.store.images.get(refOrId, signal ? { signal } : {});
  } catch (err) {
    if (isBerthError(err, 'IMAGE_NOT_FOUND')) throw noSuchImage(refOrId, err);
    throw err;
  }
}

function summary(img: Image): ImageSummary {
  return {
    Id: img.id,
    ParentId: '',
    RepoTags: img.repoTags.map(familiar),
    RepoDigests: img.repoDigests.map(familiar),
    Created: created(img),
    Size: img.size,
    SharedSize: -1,
    Labels: { ...img.labels },
    Containers: -1,
  };
}

/** `docker images`. */
export async function listImages(ctx: EngineContext, opts: ListImagesOptions = {}): Promise<ImageSummary[]> {
  const filters: ImageFilters = {};
  if (opts.dangling !== undefined) filters.dangling = opts.dangling;
  if (opts.reference?.length) filters.reference = opts.reference;
  if (opts.label?.length) filters.label = opts.label;
  const signal = opts.signal;
  let list = await ctx.store.images.list({ filters, ...(signal ? { signal } : {}) });
  if (opts.before !== undefined) {
    const ref = created(await getImage(ctx, opts.before, signal));
    list = list.filter((i) => created(i) < ref);
  }
  if (opts.since !== undefined) {
    const ref = created(await getImage(ctx, opts.since, signal));
    list = list.filter((i) => created(i) > ref);
  }
  return list.map(summary);
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function dockerConfig(raw: Record<string, unknown>): Record<string, unknown> | null {
  const c = raw.config;
  return typeof c === 'object' && c !== null ? (c as Record<string, unknown>) : null;
}

/** `docker image inspect`. */
export async function inspectImage(
  ctx: EngineContext,
  refOrId: string,
  signal?: AbortSignal,
): Promise<ImageInspect> {
  const img = await getImage(ctx, refOrId, signal);
  const bytes = await ctx.store.content.readBlob(img.config.digest, signal ? { signal } : {});
  const config = parseImageConfig(bytes);
  const raw = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  const chains = chainIds(config.rootfs.diff_ids);
  const sn = await ctx.snapshotter();
  const dirs: string[] = [];
  for (const c of chains) {
    const info = await sn.stat(c).catch(() => undefined);
    if (info !== undefined) dirs.push(info.dir);
  }
  const data: Record<string, string> | null =
    dirs.length === 0
      ? null
      : {
          ...(dirs.length > 1 ? { LowerDir: dirs.slice(0, -1).reverse().join(':') } : {}),
          UpperDir: dirs.at(-1) as string,
        };
  const str = (k: string): string => (typeof raw[k] === 'string' ? (raw[k] as string) : '');
  return {
    Id: img.id,
    RepoTags: img.repoTags.map(familiar),
    RepoDigests: img.repoDigests.map(familiar),
    Parent: '',
    Comment: str('comment'),
    Created: config.created ?? ZERO_TIME,
    DockerVersion: str('docker_version'),
    Author: config.author ?? '',
    Config: dockerConfig(raw),
    Architecture: config.architecture,
    ...(config.variant === undefined ? {} : { Variant: config.variant }),
    Os: config.os,
    Size: img.size,
    GraphDriver: { Name: `berth-${sn.driver}`, Data: data },
    RootFS: { Type: 'layers', Layers: [...config.rootfs.diff_ids] },
    Metadata: { LastTagTime: ZERO_TIME },
    Descriptor: { mediaType: img.target.mediaType, digest: img.target.digest, size: img.target.size },
  };
}

/** `docker history`: config.history, newest first. */
export async function imageHistory(
  ctx: EngineContext,
  refOrId: string,
  signal?: AbortSignal,
): Promise<ImageHistoryItem[]> {
  const img = await getImage(ctx, refOrId, signal);
  const config = parseImageConfig(
    await ctx.store.content.readBlob(img.config.digest, signal ? { signal } : {}),
  );
  const chains = chainIds(config.rootfs.diff_ids);
  const history = config.history ?? [];
  const sn = await ctx.snapshotter();
  const items: ImageHistoryItem[] = [];
  let layer = 0;
  const seconds = (t: string | undefined): number => {
    const v = t === undefined ? Number.NaN : Date.parse(t);
    return Number.isNaN(v) ? 0 : Math.floor(v / 1000);
  };
  if (history.length === 0) {
    // no history: one line per layer, as docker does
    for (const c of chains) {
      const usage = await sn.usage(c).catch(() => ({ size: 0 }));
      items.push({
        Id: '<missing>',
        Created: seconds(config.created),
        CreatedBy: '',
        Tags: null,
        Size: usage.size,
        Comment: '',
      });
    }
  }
  for (const h of history) {
    let size = 0;
    if (h.empty_layer !== true) {
      const c = chains[layer++];
      if (c !== undefined) size = (await sn.usage(c).catch(() => ({ size: 0 }))).size;
    }
    items.push({
      Id: '<missing>',
      Created: seconds(h.created),
      CreatedBy: h.created_by ?? '',
      Tags: null,
      Size: size,
      Comment: h.comment ?? '',
    });
  }
  items.reverse();
  const top = items[0];
  if (top !== undefined) {
    top.Id = img.id;
    top.Tags = img.repoTags.map(familiar);
  }
  return items;
}

/** `docker tag SOURCE TARGET`. */
export async function tagImage(
  ctx: EngineContext,
  source: string,
  target: string,
  signal?: AbortSignal,
): Promise<void> {
  const img = await getImage(ctx, source, signal);
  await ctx.store.images.tag(target, img.target, signal ? { signal } : {});
}

/** docker's name for a missing image in `rmi`: the reference with its default tag. */
function rmiName(refOrId: string): string {
  if (/^(?:sha256:)?[a-f0-9]{1,64}$/.test(refOrId)) return refOrId;
  try {
    return familiarReference(withDefaultTag(parseReference(refOrId)));
  } catch {
    return refOrId;
  }
}

/** Strips the store's subject prefix from a conflict, leaving docker's text (`conflict: …`). */
function conflict(err: BerthError, inUse: boolean): BerthError {
  const at = err.message.indexOf('conflict:');
  const message = at === -1 ? err.message : err.message.slice(at);
  return new BerthError(inUse ? EngineErrorCode.IMAGE_IN_USE : err.code, message, {
    ...(err.input === undefined ? {} : { input: err.input }),
    cause: err,
  });
}

/** `docker rmi`: untag, or delete (then collect unused blobs and snapshots). */
export async function removeImage(
  ctx: EngineContext,
  refOrId: string,
  opts: { force?: boolean; prune?: boolean; signal?: AbortSignal } = {},
): Promise<ImageDeleteItem[]> {
  let inUse = false;
  let results: Awaited<ReturnType<typeof ctx.store.images.remove>>;
  try {
    results = await ctx.store.images.remove(refOrId, {
      force: opts.force === true,
      inUse: async (id) => {
        inUse = await ctx.imageInUse(id);
        return inUse;
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (isBerthError(err, 'IMAGE_NOT_FOUND')) throw noSuchImage(rmiName(refOrId), err);
    if (isBerthError(err, 'IMAGE_CONFLICT')) throw conflict(err, inUse);
    throw err;
  }
  const out: ImageDeleteItem[] = results.map((r) =>
    'untagged' in r ? { Untagged: familiar(r.untagged) } : { Deleted: r.deleted },
  );
  if (opts.prune !== false && out.some((r) => 'Deleted' in r)) await collect(ctx, opts.signal);
  return out;
}

/** `docker image prune [-a]`: dangling images, or every image no container uses. */
export async function pruneImages(
  ctx: EngineContext,
  opts: { all?: boolean; signal?: AbortSignal } = {},
): Promise<ImagePruneReport> {
  const signal = opts.signal;
  const list = await ctx.store.images.list({
    ...(opts.all ? {} : { filters: { dangling: true } }),
    ...(signal ? { signal } : {}),
  });
  const deleted: ImageDeleteItem[] = [];
  for (const img of list) {
    if (await ctx.imageInUse(img.id)) continue;
    try {
      deleted.push(
        ...(await removeImage(ctx, img.id, { force: true, prune: false, ...(signal ? { signal } : {}) })),
      );
    } catch (err) {
      // removed meanwhile by another process
      if (!isBerthError(err, 'IMAGE_NOT_FOUND')) throw err;
    }
  }
  const reclaimed = await collect(ctx, signal);
  return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
}

/** `docker system df`, images part. */
export async function imageDiskUsage(ctx: EngineContext, signal?: AbortSignal): Promise<ImageDiskUsage> {
  const list = await ctx.store.images.list(signal ? { signal } : {});
  const active: string[] = [];
  for (const img of list) if (await ctx.imageInUse(img.id)) active.push(img.id);
  const du = await ctx.store.diskUsage({ activeImageIds: active, ...(signal ? { signal } : {}) });
  return {
    total: du.images.length,
    active: du.active,
    size: du.size,
    reclaimable: du.reclaimable,
    images: du.images.map((i) => ({ ...i, repoTags: i.repoTags.map(familiar) })),
  };
}
