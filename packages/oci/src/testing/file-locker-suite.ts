/**
 * Conformance suite for {@link FileLocker} implementations, in one process (each package adds
 * its own cross-process tests). `@berth/store` and `@berth/overlay` run it on their pure-JS
 * default, `@berth/runtime` on its flock(2) locker:
 *
 * ```ts
 * fileLockerSuite('flock', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
 *   return { locker: flockLocker, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
 * });
 * ```
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileLock, FileLocker } from '../file-lock.js';

/** What a factory hands the suite for one test. */
export interface FileLockerHarness {
  /** The locker under test. */
  locker: FileLocker;
  /** An empty directory for the test's lock paths. */
  dir: string;
  /** Removes everything the harness created. */
  cleanup?(): Promise<void>;
}

/** Creates a {@link FileLockerHarness} for each test. */
export type FileLockerFactory = () => Promise<FileLockerHarness>;

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves to whether `p` settled within `ms`. */
async function settles(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await tick(ms);
  return done;
}

/** Registers the suite's tests under `describe(name)`. */
export function fileLockerSuite(name: string, factory: FileLockerFactory): void {
  describe(`FileLocker conformance: ${name}`, () => {
    let h: FileLockerHarness;
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => {
      await h.cleanup?.();
    });

    it('excludes a second holder until the first releases, then hands over in order', async () => {
      const path = `${h.dir}/a`;
      const order: string[] = [];
      const first = await h.locker.lock(path);
      const second = h.locker.lock(path).then((l) => {
        order.push('second');
        return l;
      });
      const third = h.locker.lock(path).then((l) => {
        order.push('third');
        return l;
      });
      expect(await settles(second, 100)).toBe(false);
      order.push('first releases');
      await first.release();
      const l2 = await second;
      expect(await settles(third, 50)).toBe(false);
      await l2.release();
      await (await third).release();
      expect(order).toEqual(['first releases', 'second', 'third']);
    });

    it('release is idempotent and the lock can be taken again', async () => {
      const path = `${h.dir}/b`;
      const l = await h.locker.lock(path);
      await l.release();
      await l.release();
      const again = await h.locker.lock(path);
      await again.release();
    });

    it('locks on different paths do not wait for each other', async () => {
      const a = await h.locker.lock(`${h.dir}/c1`);
      const b = await h.locker.lock(`${h.dir}/c2`);
      await Promise.all([a.release(), b.release()]);
    });

    it('a shared holder excludes an exclusive one', async () => {
      const path = `${h.dir}/d`;
      const shared = await h.locker.lock(path, { shared: true });
      const exclusive = h.locker.lock(path);
      expect(await settles(exclusive, 100)).toBe(false);
      await shared.release();
      await (await exclusive).release();
    });

    it('abort while waiting rejects with the reason and leaves the lock to the others', async () => {
      const path = `${h.dir}/e`;
      const holder = await h.locker.lock(path);
      const ac = new AbortController();
      const reason = new Error('stop waiting');
      const waiting = h.locker.lock(path, { signal: ac.signal });
      const behind = h.locker.lock(path);
      await tick(30);
      ac.abort(reason);
      await expect(waiting).rejects.toBe(reason);
      expect(await settles(behind, 50)).toBe(false);
      await holder.release();
      const next: FileLock = await behind;
      await next.release();
      await expect(h.locker.lock(path, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      await (await h.locker.lock(path)).release();
    });

    it('rejects with ENOENT when the directory is missing', async () => {
      await expect(h.locker.lock(`${h.dir}/missing/lock`)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
}
