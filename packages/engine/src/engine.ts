/**
 * The engine: the composition root that turns configuration into the packages' options and
 * offers the services the apps call. Images now; containers, networks and volumes later.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, type FileLocker, type FsCalls, type Logger, silentLogger } from '@berth/oci';
import type { Snapshotter, SnapshotterDriver } from '@berth/overlay';
import type { RegistryClient } from '@berth/registry';
import { createStore } from '@berth/store';
import type { LoadImageOptions, LoadImageResult, SaveImageOptions } from './archive.js';
import {
  appendEvent,
  type EngineEvent,
  EVENT_FILTER_KEYS,
  type EventInput,
  eventMatches,
  readEvents,
} from './containers/events.js';
import { lazyContainerService } from './containers/lazy.js';
import type { ContainerHooks, ContainerService } from './containers/service.js';
import { parseTimestamp } from './containers/units.js';
import { type EngineContext, snapshotCollector } from './context.js';
import type { DiskUsage } from './disk-usage.js';
import {
  type ImageDeleteItem,
  type ImageDiskUsage,
  type ImageHistoryItem,
  type ImageInspect,
  type ImagePruneReport,
  type ImageSummary,
  imageDiskUsage,
  imageHistory,
  inspectImage,
  type ListImagesOptions,
  listImages,
  pruneImages,
  removeImage,
  tagImage,
} from './images.js';
import { type PullImageOptions, type PullImageResult, pullImage } from './pull.js';
import {
  type LoginOptions,
  login,
  logout,
  type PushImageOptions,
  type PushImageResult,
  pushImage,
} from './remote.js';
import { runtimeModule } from './runtime-module.js';
import type { SystemInfo } from './system.js';

/** Memoises an async loader. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= load();
    return p;
  };
}

/**
 * `@berth/runtime`'s flock(2) locker, imported on the first lock (runtime-module.ts): `berth
 * version` and image listing take no lock, so they never initialise the runtime's modules.
 */
const runtime = runtimeModule;
const flockLocker: FileLocker = {
  lock: async (path, opts) => (await runtime()).flockLocker.lock(path, opts),
};
/** `@berth/runtime`'s syncfs(2), mknod(2) and inode-flag calls (no process each), imported on first use. */
const syscallFsCalls: FsCalls = {
  syncfs: async (path, opts) => (await runtime()).syscallFsCalls.syncfs(path, opts),
  mknod: async (path, kind, mode, major, minor) =>
    (await runtime()).syscallFsCalls.mknod(path, kind, mode, major, minor),
  setTopDir: async (path) => (await runtime()).syscallFsCalls.setTopDir(path),
  removeTree: async (dir) => (await runtime()).syscallFsCalls.removeTree?.(dir) ?? false,
};

/** Registry settings of {@link createEngine}. */
export interface EngineRegistryOptions {
  /** Hosts (`host[:port]`) reached over plain HTTP; loopback always is. */
  insecure?: string[];
  /** Pull-through mirrors per registry: `{ 'docker.io': ['mirror.gcr.io'] }`. */
  mirrors?: Record<string, string[]>;
  /** docker's config directory (credentials); default `$DOCKER_CONFIG` or `~/.docker`, decided by the caller. */
  dockerConfigDir?: string;
  /** Extra CA certificates (PEM). */
  ca?: string[];
  /**
   * PEM files of extra CA certificates, read on the first HTTPS connection (the CLI passes the
   * file its launcher moved out of `NODE_EXTRA_CA_CERTS`).
   */
  caFiles?: string[];
  /** The environment of `docker-credential-*` helpers; default this process's. */
  helperEnv?: Readonly<Record<string, string | undefined>>;
}

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** State root (the apps pass `$BERTH_ROOT` or `/var/lib/berth`): `content/`, `snapshots/`… */
  root: string;
  /** Runtime files; default `/run/berth`. */
  runRoot?: string;
  /** Structured logger; silent by default. */
  logger?: Logger;
  /** Registry client settings. */
  registry?: EngineRegistryOptions;
  /** `overlay` (default) or `copy` where overlayfs cannot mount. */
  snapshotter?: SnapshotterDriver;
  /** Platform images resolve to locally; default the host's. */
  platform?: string;
  /** berth-shim: an explicit path (the CLI passes `$BERTH_SHIM`) and a PATH-style search list. */
  shim?: { path?: string; searchPath?: string };
  /**
   * How berth-shim calls back into berth when a container exits or is due a health probe, with
   * no daemon (the CLI passes itself). Without hooks, restart policies, detached `--rm` and
   * health checks do not run.
   */
  hooks?: ContainerHooks;
}

/** Options of {@link Engine.events}. */
export interface EventsOptions {
  /** docker's `--since`: a timestamp or a duration before now; without it only new events. */
  since?: string;
  /** docker's `--until`: stop there (and without it, follow until the signal). */
  until?: string;
  /** `container=`, `event=`, `image=`, `label=`, `type=`, `scope=`. */
  filters?: Record<string, string[]>;
  signal?: AbortSignal;
}

/** Image operations, docker's semantics. References are docker's (`busybox`, `localhost:5000/a:1`, IDs and ID prefixes). */
export interface ImageService {
  /**
   * Pulls a reference (default tag `latest`; every tag with `allTags`), downloading layers in
   * parallel and unpacking each into a snapshot as soon as it and its parent are ready.
   */
  pull(ref: string, options?: PullImageOptions): Promise<PullImageResult[]>;
  /** Pushes a local tag to its registry. Throws IMAGE_NOT_FOUND when the tag is not here. */
  push(ref: string, options?: PushImageOptions): Promise<PushImageResult>;
  /** Lists images, newest first. Throws INVALID_FILTER, IMAGE_NOT_FOUND (before/since). */
  list(options?: ListImagesOptions): Promise<ImageSummary[]>;
  /** docker's `ImageInspect`. Throws IMAGE_NOT_FOUND (`No such image: …`), IMAGE_AMBIGUOUS. */
  inspect(ref: string, options?: { signal?: AbortSignal }): Promise<ImageInspect>;
  /** History from the config, newest first. */
  history(ref: string, options?: { signal?: AbortSignal }): Promise<ImageHistoryItem[]>;
  /** Points `target` at the image `source` names. */
  tag(source: string, target: string, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * docker's `rmi`: untags a name (deleting the image when it was its last), or deletes an
   * image by ID with every name. Throws IMAGE_NOT_FOUND, IMAGE_CONFLICT (several repositories,
   * without `force`), IMAGE_IN_USE (a container uses it). Unused blobs and snapshots go.
   */
  remove(ref: string, options?: { force?: boolean; signal?: AbortSignal }): Promise<ImageDeleteItem[]>;
  /** Removes dangling images (every unused image with `all`) and what only they used. */
  prune(options?: { all?: boolean; signal?: AbortSignal }): Promise<ImagePruneReport>;
  /** `system df` for images. */
  diskUsage(options?: { signal?: AbortSignal }): Promise<ImageDiskUsage>;
  /** Writes images as a docker-archive (default) or an OCI layout tar to `output`. */
  save(refs: string[], options: SaveImageOptions): Promise<void>;
  /** Loads a docker-archive (legacy or OCI+manifest.json) or an OCI layout tar. */
  load(options: LoadImageOptions): Promise<LoadImageResult>;
  /** Checks credentials against a registry, then stores them in the docker config. */
  login(options: LoginOptions): Promise<{ status: 'Login Succeeded' }>;
  /** Removes stored credentials for a registry (default docker.io). */
  logout(server?: string): Promise<{ registry: string; removed: boolean }>;
}

/** A berth engine over one state root. */
export interface Engine {
  /** The state root. */
  readonly root: string;
  /** Runtime files directory. */
  readonly runRoot: string;
  /** The image service. */
  readonly images: ImageService;
  /** The container service. */
  readonly containers: ContainerService;
  /**
   * docker's event stream: the stored events from `since`, then new ones as any berth process
   * (or shim hook) records them, until `until` or the signal.
   * @throws BerthError INVALID_FILTER, INVALID_OPTION (a bad since/until)
   */
  events(options?: EventsOptions): AsyncIterable<EngineEvent>;
  /**
   * `docker info`: container and image counts, the storage driver, cgroup version, kernel, OS,
   * CPUs, memory, the state root and the runtimes installed (berth, runc, crun).
   */
  info(options?: { serverVersion?: string }): Promise<SystemInfo>;
  /**
   * `docker system df`: images (active: used by a container; reclaimable: content no active
   * image uses) and containers (active: running, paused or restarting; size: their writable
   * layers; reclaimable: the other containers' layers), each with its items for `-v`.
   */
  diskUsage(options?: { signal?: AbortSignal }): Promise<DiskUsage>;
  /** Closes pooled registry connections. */
  close(): Promise<void>;
}

/**
 * Opens (creating when missing) an engine over `options.root`.
 *
 * @example
 * ```ts
 * const engine = await createEngine({ root: '/var/lib/berth' });
 * await engine.images.pull('127.0.0.1:5000/busybox');
 * console.log(await engine.images.list());
 * await engine.close();
 * ```
 */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const root = options.root.replace(/\/+$/, '') || '/';
  const runRoot = options.runRoot ?? '/run/berth';
  const logger = options.logger ?? silentLogger;
  const tmpDir = join(root, 'tmp');
  // a root made here is an Orlov top directory (FS_TOPDIR_FL) before anything is made in it: ext4
  // places its subtrees (containers/, container-names/, content/, …) in the emptiest block groups,
  // not in the group of its parent (a /tmp every test churns, where each create first skips the
  // inodes freed there in the last minute on an ext4 without a journal). Best effort
  if (mkdirSync(root, { recursive: true, mode: 0o700 }) !== undefined)
    await syscallFsCalls.setTopDir(root).catch(() => {});
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  // the leaves' locks and mounts are @berth/runtime's system calls (DESIGN.md: the engine wires)
  const store = await createStore({
    root,
    logger,
    locker: flockLocker,
    ...(options.platform === undefined ? {} : { platform: options.platform }),
  });
  const reg = options.registry ?? {};
  // loaded on first use (see EngineContext)
  const overlay = once(() => import('@berth/overlay'));
  const registryModule = once(() => import('@berth/registry'));
  const archive = once(() => import('./archive.js'));
  const snapshotter = once(
    async (): Promise<Snapshotter> =>
      (await overlay()).createSnapshotter({
        root: join(root, 'snapshots'),
        logger,
        locker: flockLocker,
        fsCalls: syscallFsCalls,
        // ISA-L's gzip decoder (berth-inflate.node): ~2.5x node:zlib's speed on a pull's layers
        gunzipAddon: async () => (await runtime()).gunzipAddonPath(),
        ...(options.snapshotter === undefined ? {} : { driver: options.snapshotter }),
      }),
  );
  let client: RegistryClient | undefined;
  const registry = async (): Promise<RegistryClient> => {
    if (client) return client;
    const m = await registryModule();
    client ??= m.createRegistryClient({
      logger,
      credentials: m.dockerConfigCredentials({
        logger,
        ...(reg.dockerConfigDir === undefined ? {} : { dir: reg.dockerConfigDir }),
        ...(reg.helperEnv === undefined ? {} : { helperEnv: reg.helperEnv }),
      }),
      ...(reg.insecure === undefined ? {} : { insecure: reg.insecure }),
      ...(reg.mirrors === undefined ? {} : { mirrors: reg.mirrors }),
      ...(reg.ca === undefined ? {} : { ca: reg.ca }),
      ...(reg.caFiles === undefined ? {} : { caFiles: reg.caFiles }),
    });
    return client;
  };
  const ctx: EngineContext = {
    root,
    runRoot,
    tmpDir,
    logger,
    store,
    snapshotter,
    registry,
    overlay,
    registryModule,
    ...(reg.dockerConfigDir === undefined ? {} : { dockerConfigDir: reg.dockerConfigDir }),
    ...(reg.helperEnv === undefined ? {} : { helperEnv: reg.helperEnv }),
    // containers arrive in a later issue; this is the hook rmi and prune ask
    imageInUse: async () => false,
    collector: snapshotCollector(snapshotter),
  };
  const s = (o?: { signal?: AbortSignal }) => o?.signal;
  const imageEvent = (Action: string, id: string, name: string) =>
    appendEvent(root, { Type: 'image', Action, id, attributes: { name } } satisfies EventInput);
  const images: ImageService = {
    pull: async (ref, o = {}) => {
      const res = await pullImage(ctx, ref, {
        ...(options.platform && !o.platform ? { platform: options.platform } : {}),
        ...o,
      });
      for (const r of res) await imageEvent('pull', r.familiar, r.familiar.replace(/:[^:/]*$/, ''));
      return res;
    },
    push: (ref, o = {}) => pushImage(ctx, ref, o),
    list: (o = {}) => listImages(ctx, o),
    inspect: (ref, o) => inspectImage(ctx, ref, s(o)),
    history: (ref, o) => imageHistory(ctx, ref, s(o)),
    tag: async (source, target, o) => {
      await tagImage(ctx, source, target, s(o));
      const img = await inspectImage(ctx, target, s(o)).catch(() => undefined);
      if (img) await imageEvent('tag', img.Id, target.includes(':') ? target : `${target}:latest`);
    },
    remove: async (ref, o = {}) => {
      const items = await removeImage(ctx, ref, o);
      for (const it of items)
        if ('Untagged' in it) await imageEvent('untag', ref, it.Untagged);
        else await imageEvent('delete', it.Deleted, ref);
      return items;
    },
    prune: (o = {}) => pruneImages(ctx, o),
    diskUsage: (o) => imageDiskUsage(ctx, s(o)),
    // save and load (tar-stream, streamx, node:crypto) are loaded by the commands that use them
    save: async (refs, o) => (await archive()).saveImages(ctx, refs, o),
    load: async (o) => (await archive()).loadImages(ctx, o),
    login: (o) => login(ctx, o),
    logout: (server) => logout(ctx, server),
  };
  // berth-shim's state sits beside the records unless the socket paths would not fit (108 bytes)
  const shimRoot = join(root, 'shims').length <= 28 ? join(root, 'shims') : join(runRoot, 'shims');
  const containers = lazyContainerService(ctx, {
    shimRoot,
    ...(options.shim ? { shim: options.shim } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
  ctx.imageInUse = (id) => containers.usesImage(id);
  const events = (o: EventsOptions = {}): AsyncIterable<EngineEvent> => {
    const filters = o.filters ?? {};
    for (const k of Object.keys(filters))
      if (!(EVENT_FILTER_KEYS as readonly string[]).includes(k))
        throw new BerthError('INVALID_FILTER', `invalid filter '${k}'`, { input: { field: 'filter' } });
    const now = Date.now();
    const since = o.since ? parseTimestamp(o.since, 'since', now) : undefined;
    const until = o.until ? parseTimestamp(o.until, 'until', now) : undefined;
    if (since !== undefined && until !== undefined && until < since)
      throw new BerthError('INVALID_OPTION', '"since" must be before "until"', { input: { field: 'until' } });
    const stream = readEvents(root, {
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return (async function* () {
      for await (const e of stream) if (eventMatches(e, filters)) yield e;
    })();
  };
  const info = async (o: { serverVersion?: string } = {}) =>
    (await import('./system.js')).systemInfo(ctx, containers, {
      ...(options.shim?.searchPath !== undefined ? { searchPath: options.shim.searchPath } : {}),
      ...o,
    });
  const diskUsage = async (o?: { signal?: AbortSignal }) =>
    (await import('./disk-usage.js')).diskUsage(ctx, containers, s(o));
  return {
    root,
    runRoot,
    images,
    containers,
    events,
    info,
    diskUsage,
    close: async () => client?.close(),
  };
}
