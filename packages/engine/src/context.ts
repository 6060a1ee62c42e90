/**
 * What every engine service shares: the stores, the snapshotter, the registry client and the
 * hooks later issues fill in (containers that use images). Internal; not exported.
 */
import type { Digest, Logger } from '@berth/oci';
import type { Snapshotter } from '@berth/overlay';
import type { RegistryClient } from '@berth/registry';
import type { SnapshotCollector, Store } from '@berth/store';

/** Shared state of one engine instance. */
export interface EngineContext {
  root: string;
  runRoot: string;
  /** Scratch space on the same filesystem as the store (`<root>/tmp`). */
  tmpDir: string;
  logger: Logger;
  store: Store;
  /**
   * The snapshotter, the registry client and the packages behind them are loaded on first use:
   * `images`, `inspect` and `rmi` never load the HTTP client, and listing loads no tar code.
   */
  snapshotter(): Promise<Snapshotter>;
  registry(): Promise<RegistryClient>;
  overlay(): Promise<typeof import('@berth/overlay')>;
  registryModule(): Promise<typeof import('@berth/registry')>;
  dockerConfigDir?: string;
  /** The environment of `docker-credential-*` helpers; default this process's. */
  helperEnv?: Readonly<Record<string, string | undefined>>;
  /** Whether a container uses the image (no containers yet: always false). */
  imageInUse(id: Digest): Promise<boolean>;
  /** The snapshot side of garbage collection; `reclaimed` sums the usage of what it swept. */
  collector: SnapshotCollector & { reclaimed: number };
}

/** The snapshotter seen by the store's garbage collector: committed snapshots are collectable. */
export function snapshotCollector(
  snapshotter: () => Promise<Snapshotter>,
): SnapshotCollector & { reclaimed: number } {
  const c = {
    reclaimed: 0,
    async walk() {
      const all = await (await snapshotter()).walk();
      return all.map((s) => ({
        key: s.name,
        ...(s.parent === undefined ? {} : { parent: s.parent }),
        // an active or view snapshot is an extraction in progress or a container's root
        inUse: s.kind !== 'committed',
      }));
    },
    async sweep(keys: string[]) {
      const sn = await snapshotter();
      for (const key of keys) {
        const usage = await sn.usage(key).catch(() => ({ size: 0 }));
        await sn.remove(key);
        c.reclaimed += usage.size;
      }
    },
  };
  return c;
}

/**
 * Runs garbage collection over content and snapshots; returns the bytes reclaimed. Snapshot
 * trees that no record names go too: what a crash between a tree and its record left, or a
 * power loss took the record of (a `--rm` container's root is prepared without fsyncs).
 */
export async function collect(ctx: EngineContext, signal?: AbortSignal): Promise<number> {
  ctx.collector.reclaimed = 0;
  const r = await ctx.store.gc({ snapshots: ctx.collector, ...(signal ? { signal } : {}) });
  await (await ctx.snapshotter()).cleanup();
  return r.reclaimedBytes + ctx.collector.reclaimed;
}
