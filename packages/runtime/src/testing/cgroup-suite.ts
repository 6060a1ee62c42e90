/**
 * Conformance suite for {@link CgroupDriver} implementations (containerd's `testsuite` idea):
 * the v1 and v2 drivers run it over generated fixture trees (unit), and the driver this host
 * needs runs it against the real kernel (int), where processes are placed, frozen and killed.
 *
 * ```ts
 * cgroupSuite('v2 fixture', async () => {
 *   const fx = makeV2Fixture(await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`)));
 *   return { driver: createCgroupV2Driver({ root: fx.root }), fixture: fx, newPath: () => `/berth/t${n++}` };
 * });
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CgroupDriver, CgroupWarningCode } from '../cgroups/types.js';
import type { CgroupFixture } from './cgroup-fixture.js';

/** What a factory hands the suite for one test. */
export interface CgroupSuiteHarness {
  driver: CgroupDriver;
  /** The generated tree behind the driver; absent when it drives the real kernel. */
  fixture?: CgroupFixture;
  /** A fresh cgroup path for one test (unique per test and process). */
  newPath(): string;
  /** Removes everything the harness created. */
  cleanup?(): Promise<void>;
}

/** Creates a {@link CgroupSuiteHarness} for each test. */
export type CgroupSuiteFactory = () => Promise<CgroupSuiteHarness>;

/** Options of {@link cgroupSuite}. */
export interface CgroupSuiteOptions {
  /** The harness drives the real cgroupfs: run the cases that place processes. */
  kernel?: boolean;
  /** Controllers its cgroups have (default: memory, pids); cases needing others are left out. */
  controllers?: readonly string[];
}

const ALL = ['memory', 'pids'];

const WARNINGS: readonly CgroupWarningCode[] = [
  'SWAP_LIMIT_UNSUPPORTED',
  'BLKIO_WEIGHT_UNSUPPORTED',
  'DEVICES_NOT_ENFORCED',
  'SETTING_IGNORED',
];

/** The state letter of /proc/PID/stat (after the parenthesised command name). */
async function procState(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/**
 * The state of a process once it stops running: a sleeper just spawned (still exec'ing) or just
 * thawed (waking from the freezer) shows R for a moment on a loaded machine before it sleeps.
 */
async function sleepingState(pid: number): Promise<string> {
  let st = await procState(pid);
  for (let i = 0; i < 400 && st === 'R'; i++) {
    await new Promise((r) => setTimeout(r, 5));
    st = await procState(pid);
  }
  return st;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

/**
 * Registers a vitest `describe` block (pass `{ kernel: true }` for a harness on the real cgroupfs) of behaviours every {@link CgroupDriver} must have:
 * limits applied at create read back through stats; create is idempotent; bad paths and bad
 * resources are refused with typed errors and leave nothing; freeze/thaw reach their states;
 * a fresh cgroup has no OOM kills; update and stats of a missing cgroup are CGROUP_NOT_FOUND;
 * destroy removes the cgroup and is idempotent; on the real kernel, a placed process is listed,
 * counted, frozen (its /proc state turns D) and killed by a forced destroy.
 */
export function cgroupSuite(name: string, factory: CgroupSuiteFactory, opts: CgroupSuiteOptions = {}): void {
  const has = (c: string) => (opts.controllers ?? ALL).includes(c);
  const itWith = (cs: string[], title: string, fn: () => Promise<void>) => {
    // a case needing a controller the harness lacks is not registered (no silent skip)
    if (cs.every(has)) it(title, fn);
  };
  describe(`CgroupDriver conformance: ${name}`, () => {
    let h: CgroupSuiteHarness;
    let cg: CgroupDriver;
    const made: string[] = [];
    const children: ChildProcess[] = [];

    const create = async (resources?: Parameters<CgroupDriver['create']>[1]) => {
      const path = h.newPath();
      h.fixture?.populate(path);
      made.push(path);
      return { path, report: await cg.create(path, resources) };
    };
    const destroy = async (path: string, force = false) => {
      h.fixture?.unpopulate(path);
      await cg.destroy(path, force ? { force } : {});
    };
    const sleeper = () => {
      const c = spawn('sleep', ['300'], { stdio: 'ignore' });
      children.push(c);
      return c.pid!;
    };

    beforeEach(async () => {
      h = await factory();
      cg = h.driver;
    });
    afterEach(async () => {
      for (const c of children.splice(0)) c.kill('SIGKILL');
      for (const p of made.splice(0)) await destroy(p, true).catch(() => {});
      h.fixture?.close();
      await h.cleanup?.();
    });

    itWith(['memory', 'pids'], 'applies memory and pids limits at create; stats read them back', async () => {
      const { path, report } = await create({ memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 20 } });
      for (const w of report.warnings) expect(WARNINGS).toContain(w.code);
      expect(await cg.exists(path)).toBe(true);
      const s = await cg.stats(path);
      expect(s.memory?.limit).toBe(64 * 1024 * 1024);
      expect(s.pids?.limit).toBe(20);
      expect(s.memory?.usage).toBeGreaterThanOrEqual(0);
      expect(s.cpu?.totalUsageNs).toBeGreaterThanOrEqual(0);
    });

    itWith(['memory', 'pids'], 'reports unlimited as an absent limit', async () => {
      const { path } = await create({ memory: { limit: -1 }, pids: { limit: -1 } });
      const s = await cg.stats(path);
      expect(s.memory?.limit).toBeUndefined();
      expect(s.pids?.limit).toBeUndefined();
    });

    itWith(['pids'], 'reuses an existing cgroup on a second create and applies the new values', async () => {
      const { path } = await create({ pids: { limit: 10 } });
      await cg.create(path, { pids: { limit: 30 } });
      expect((await cg.stats(path)).pids?.limit).toBe(30);
    });

    itWith(['memory'], 'update changes limits of an existing cgroup', async () => {
      const { path } = await create({ memory: { limit: 64 * 1024 * 1024 } });
      await cg.update(path, { memory: { limit: 32 * 1024 * 1024 } });
      expect((await cg.stats(path)).memory?.limit).toBe(32 * 1024 * 1024);
    });

    it('refuses hostile paths with CGROUP_PATH_INVALID', async () => {
      for (const p of [
        '../etc',
        '/berth/../../etc',
        'relative/x',
        '/',
        '',
        'system.slice:berth:x',
        '/a/./b',
        '/a\nb',
      ])
        expect(isBerthError(await rejection(cg.create(p, {})), 'CGROUP_PATH_INVALID')).toBe(true);
    });

    it('refuses swap below memory with CGROUP_RESOURCE_INVALID and leaves no cgroup', async () => {
      const path = h.newPath();
      const err = await rejection(
        cg.create(path, { memory: { limit: 64 * 1024 * 1024, swap: 32 * 1024 * 1024 } }),
      );
      expect(isBerthError(err, 'CGROUP_RESOURCE_INVALID')).toBe(true);
      expect(await cg.exists(path)).toBe(false);
    });

    it('refuses a malformed device rule naming its index', async () => {
      const { path } = await create();
      const err = await rejection(cg.update(path, { devices: [{ allow: true, type: 'x', access: 'rwm' }] }));
      expect(isBerthError(err, 'CGROUP_RESOURCE_INVALID')).toBe(true);
      expect((err as { input?: unknown }).input).toEqual({ field: 'linux.resources.devices[0]' });
    });

    it('freezes and thaws', async () => {
      const { path } = await create();
      expect(await cg.freezerState(path)).toBe('thawed');
      await cg.freeze(path);
      expect(await cg.freezerState(path)).toBe('frozen');
      await cg.thaw(path);
      expect(await cg.freezerState(path)).toBe('thawed');
    });

    itWith(['memory'], 'has no OOM kill in a fresh cgroup', async () => {
      const { path } = await create({ memory: { limit: 64 * 1024 * 1024 } });
      expect((await cg.oomEvents(path)).oomKill).toBe(0);
    });

    it('answers CGROUP_NOT_FOUND for a missing cgroup', async () => {
      const path = h.newPath();
      expect(await cg.exists(path)).toBe(false);
      expect(isBerthError(await rejection(cg.update(path, { pids: { limit: 5 } })), 'CGROUP_NOT_FOUND')).toBe(
        true,
      );
      expect(isBerthError(await rejection(cg.stats(path)), 'CGROUP_NOT_FOUND')).toBe(true);
      expect(await cg.pids(path)).toEqual([]);
    });

    it('destroys a cgroup; destroying it again is not an error', async () => {
      const { path } = await create();
      await destroy(path);
      expect(await cg.exists(path)).toBe(false);
      await destroy(path);
    });

    // processes need the kernel: registered only for a harness on the real cgroupfs
    if (opts.kernel)
      it('places a process, counts it, freezes it and kills it on a forced destroy', async () => {
        const { path } = await create();
        const pid = sleeper();
        await cg.addProcess(path, pid);
        expect(await cg.pids(path)).toContain(pid);
        if (has('pids')) expect((await cg.stats(path)).pids?.current).toBe(1);
        // v1: a frozen task reports state D (TASK_FROZEN); v2: it waits in the freezer trap.
        // Thawed, the sleeper is back in S.
        expect(await sleepingState(pid)).toBe('S');
        await cg.freeze(path);
        if (cg.version === 1) expect(await procState(pid)).toBe('D');
        // (do_freezer_trap is inlined into get_signal on some kernels, 6.18 among them)
        else expect(await readFile(`/proc/${pid}/wchan`, 'utf8')).toMatch(/^(do_freezer_trap|get_signal)$/);
        await cg.thaw(path);
        expect(await sleepingState(pid)).toBe('S');
        await cg.freeze(path);
        await destroy(path, true); // thaws, kills, removes
        expect(await cg.exists(path)).toBe(false);
      });

    if (opts.kernel)
      it('a forced destroy removes sub-cgroups and kills a task placed in one', async () => {
        const { path } = await create();
        const inner = `${path}/inner`;
        await cg.create(inner);
        const pid = sleeper();
        const child = children.at(-1)!;
        const died = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
        await cg.addProcess(inner, pid);
        expect(await cg.pids(inner)).toEqual([pid]);
        await destroy(path, true);
        expect(await cg.exists(inner)).toBe(false);
        expect(await cg.exists(path)).toBe(false);
        expect(await died).toBe('SIGKILL');
      });
  });
}
