/**
 * Test helper: mounts a test makes with `mountAll`, each remembered so that `releaseAll` (in an
 * `afterEach`) lazily unmounts whatever a failed test left mounted. One copy for the overlay
 * integration tests.
 */
import { mkdir } from 'node:fs/promises';
import { mountAll, unmount } from '@berth/overlay';

export interface MountTracker {
  /** Makes `target` and mounts `mounts` on it; returns `target`. */
  at(mounts: Parameters<typeof mountAll>[0], target: string): Promise<string>;
  /** Unmounts `target` and forgets it. */
  release(target: string): Promise<void>;
  /** Lazily unmounts every mount still held (a test's leftovers). */
  releaseAll(): Promise<void>;
}

export function mountTracker(): MountTracker {
  const mounted: string[] = [];
  return {
    async at(mounts, target) {
      await mkdir(target);
      await mountAll(mounts, target);
      mounted.push(target);
      return target;
    },
    async release(target) {
      await unmount(target);
      mounted.splice(mounted.indexOf(target), 1);
    },
    async releaseAll() {
      for (const m of mounted.splice(0)) await unmount(m, { lazy: true }).catch(() => undefined);
    },
  };
}
