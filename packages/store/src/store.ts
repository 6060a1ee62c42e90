/**
 * The whole store under one root (DESIGN.md, State on disk): `content/` (the OCI image layout),
 * `images/` (records cache and lock), `leases/`. This is what the engine opens and what the
 * registry client pulls into: it implements `ContentSink`, including `tag`.
 */
import { join } from 'node:path';
import type {
  ContentSink,
  ContentWriter,
  Descriptor,
  Digest,
  FileLocker,
  Logger,
  Platform,
} from '@berth/oci';
import {
  type ContentStore,
  createContentStore,
  type Info,
  type RepairReport,
  type WriterOptions,
} from './content.js';
import {
  type CollectGarbageOptions,
  type CollectGarbageResult,
  collectGarbage,
  type DiskUsage,
  diskUsage,
} from './gc.js';
import { createImageStore, type ImageStore } from './images.js';
import { createLeaseManager, type LeaseManager } from './leases.js';

/** Options for {@link createStore}. */
export interface StoreOptions {
  /** The state root, e.g. `/var/lib/berth`; created when missing. */
  root: string;
  /** The platform indexes resolve to (default: the host). */
  platform?: Platform | string;
  /**
   * The cross-process lock of the content and image stores. Default: proper-lockfile (pure JS,
   * no native addon; a holder killed with `kill -9` blocks others for up to 10 s).
   * `@berth/engine` passes `@berth/runtime`'s flock(2) locker, which the kernel drops when a holder
   * dies. Every process using one root must use the same kind of locker.
   */
  locker?: FileLocker;
  /** Structured logger; silent by default. */
  logger?: Logger;
  /** Aborts opening. */
  signal?: AbortSignal;
}

/** Content, images and leases under one root; a `ContentSink` for pulls. */
export interface Store extends ContentSink {
  /** The state root. */
  readonly root: string;
  /** The content store (`<root>/content`). */
  readonly content: ContentStore;
  /** The image store (references in `content/index.json`, records in `<root>/images`). */
  readonly images: ImageStore;
  /** Leases (`<root>/leases`). */
  readonly leases: LeaseManager;
  /** See {@link ContentStore.info}. */
  info(digest: Digest, opts?: { signal?: AbortSignal }): Promise<Info | undefined>;
  /** See {@link ContentStore.writer}; `lease` protects the blob from collection. */
  writer(opts: WriterOptions): Promise<ContentWriter>;
  /**
   * Tags a pulled image: records `name` and, for a tag, `repository@digest` (its RepoDigest).
   * See {@link ImageStore.tag}.
   */
  tag(name: string, desc: Descriptor, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Garbage collection over this store's content, images and leases. See {@link collectGarbage}. */
  gc(opts?: Omit<CollectGarbageOptions, 'content' | 'images' | 'leases'>): Promise<CollectGarbageResult>;
  /** `system df` numbers. See {@link diskUsage}. */
  diskUsage(opts?: { activeImageIds?: Iterable<string>; signal?: AbortSignal }): Promise<DiskUsage>;
  /**
   * What the next command does after a crash: removes temporary files and leftovers of
   * interrupted lease changes and expired leases, and reports abandoned ingests (see
   * {@link ContentStore.repair}; remove those with `content.cleanIngest`).
   */
  repair(opts?: {
    verify?: boolean;
    signal?: AbortSignal;
  }): Promise<RepairReport & { expiredLeases: string[] }>;
}

/**
 * Opens (creating when missing) the store at `opts.root`.
 *
 * @example
 * ```ts
 * const store = await createStore({ root: '/var/lib/berth' });
 * for (const img of await store.images.list()) console.log(img.id, img.repoTags);
 * ```
 */
export async function createStore(opts: StoreOptions): Promise<Store> {
  const { root, signal } = opts;
  const logger = opts.logger;
  // leases and content open at once (independent directories)
  const leasesOpening = createLeaseManager({ path: join(root, 'leases') });
  const [leases, content] = await Promise.all([
    leasesOpening,
    createContentStore({
      path: join(root, 'content'),
      ...(opts.locker === undefined ? {} : { locker: opts.locker }),
      addLeaseResource: async (lease, digest, o) =>
        (await leasesOpening).addResource(lease, { type: 'content', digest }, o),
      ...(logger === undefined ? {} : { logger }),
      ...(signal === undefined ? {} : { signal }),
    }),
  ]);
  const images = await createImageStore({
    content,
    path: join(root, 'images'),
    ...(opts.locker === undefined ? {} : { locker: opts.locker }),
    ...(opts.platform === undefined ? {} : { platform: opts.platform }),
    ...(logger === undefined ? {} : { logger }),
  });
  return {
    root,
    content,
    images,
    leases,
    info: (digest, o) => content.info(digest, o),
    writer: (o) => content.writer(o),
    tag: (name, desc, o = {}) => images.tag(name, desc, { ...o, repoDigest: true }),
    gc: (o = {}) =>
      collectGarbage({
        ...o,
        content,
        images,
        leases,
        ...((o.logger ?? logger) ? { logger: o.logger ?? logger } : {}),
      }),
    diskUsage: (o = {}) => diskUsage({ ...o, content, images }),
    async repair(o = {}) {
      const expiredLeases = await leases.removeExpired(o);
      return { ...(await content.repair(o)), expiredLeases };
    },
  };
}
