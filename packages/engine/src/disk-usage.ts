/**
 * `docker system df` for a daemonless engine: images from the store (shared content counted
 * once), containers from their records and the disk use of their writable layers (the overlay
 * upper dirs, as `ps --size` measures them). berth has no volumes or build cache yet.
 */
import type { ContainerService } from './containers/service.js';
import type { ContainerSummary } from './containers/types.js';
import type { EngineContext } from './context.js';
import { imageDiskUsage, listImages } from './images.js';

/** One image of {@link DiskUsage.images}: `system df -v`'s image rows. */
export interface ImageUsageItem {
  /** `sha256:…`, the config digest. */
  id: string;
  /** Familiar tags: `busybox:latest`. */
  repoTags: string[];
  /** Creation time, Unix seconds (0 when the config has none). */
  created: number;
  /** Bytes of content the image uses in the store. */
  size: number;
  /** Bytes of it that other images use too. */
  sharedSize: number;
  /** Bytes only this image uses. */
  uniqueSize: number;
  /** Containers (any state) made from it. */
  containers: number;
}

/** Totals of one kind, docker's `TYPE TOTAL ACTIVE SIZE RECLAIMABLE` row. */
export interface UsageTotals {
  total: number;
  active: number;
  /** Bytes. */
  size: number;
  /** Bytes a prune of the inactive ones would free. */
  reclaimable: number;
}

/** What {@link diskUsage} reports. */
export interface DiskUsage {
  /** Active: used by a container. Reclaimable: content no active image uses. */
  images: UsageTotals & { items: ImageUsageItem[] };
  /**
   * Active: running, paused or restarting (docker's rule). Size: the writable layers' disk use;
   * reclaimable: that of the other (stopped, created, exited, dead) containers. Items are
   * `ps -a --size` summaries (`SizeRw` set).
   */
  containers: UsageTotals & { items: ContainerSummary[] };
}

/** docker's `isActive` for `system df`: these states hold their container's layer in use. */
export function containerActive(c: Pick<ContainerSummary, 'State'>): boolean {
  return c.State === 'running' || c.State === 'paused' || c.State === 'restarting';
}

/** Sums the containers' writable layers into docker's row. */
export function containerTotals(items: readonly ContainerSummary[]): UsageTotals {
  const t: UsageTotals = { total: items.length, active: 0, size: 0, reclaimable: 0 };
  for (const c of items) {
    const rw = c.SizeRw ?? 0;
    t.size += rw;
    if (containerActive(c)) t.active++;
    else t.reclaimable += rw;
  }
  return t;
}

/** Gathers `system df`: images and containers with their sizes. */
export async function diskUsage(
  ctx: EngineContext,
  containers: ContainerService,
  signal?: AbortSignal,
): Promise<DiskUsage> {
  const [cs, du, list] = await Promise.all([
    containers.list({ all: true, size: true, ...(signal ? { signal } : {}) }),
    imageDiskUsage(ctx, signal),
    listImages(ctx, signal ? { signal } : {}),
  ]);
  const created = new Map(list.map((i) => [i.Id as string, i.Created]));
  const users = new Map<string, number>();
  for (const c of cs) users.set(c.ImageID, (users.get(c.ImageID) ?? 0) + 1);
  return {
    images: {
      total: du.total,
      active: du.active,
      size: du.size,
      reclaimable: du.reclaimable,
      items: du.images.map((i) => ({
        id: i.id,
        repoTags: i.repoTags,
        created: created.get(i.id) ?? 0,
        size: i.size,
        sharedSize: i.sharedSize,
        uniqueSize: i.uniqueSize,
        containers: users.get(i.id) ?? 0,
      })),
    },
    containers: { ...containerTotals(cs), items: cs },
  };
}
