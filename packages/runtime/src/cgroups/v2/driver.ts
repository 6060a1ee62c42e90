/**
 * The cgroup v2 (unified) driver: one tree; controllers are enabled in each ancestor's
 * cgroup.subtree_control on the way down, and the leaf gets the container's settings.
 */
import { mkdirSync } from 'node:fs';
import { rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LinuxResources, Logger } from '@berth/oci';
import { BerthError, isBerthError } from '@berth/oci';
import { childPath } from '../../child-path.js';
import { cgroupDir, hasControl, parsePids, readControl, readOptional, writeControl } from '../files.js';
import { validateCgroupPath } from '../path.js';
import { precheck } from '../precheck.js';
import { removeCgroupDir, subtreePids } from '../remove.js';
import type {
  ApplyContext,
  CgroupApplyReport,
  CgroupDriver,
  CgroupStats,
  CgroupWaitOptions,
  CgroupWarning,
  DeviceProgramLoader,
  FreezerState,
  OomEvents,
} from '../types.js';
import * as pids from '../v1/pids.js';
import * as cpu from './cpu.js';
import * as cpuset from './cpuset.js';
import * as devices from './devices.js';
import * as freezer from './freezer.js';
import * as io from './io.js';
import * as memory from './memory.js';

/** Options of {@link createCgroupV2Driver}. */
export interface CgroupV2DriverOptions {
  /** The cgroup2 mount (/sys/fs/cgroup), or a fixture tree. */
  root: string;
  logger?: Logger;
  /**
   * Attaches the device program of `linux.resources.devices` to each cgroup
   * ({@link shimDeviceProgramLoader} on a real host). Without one the rules are validated and
   * reported as DEVICES_NOT_ENFORCED (fixture trees).
   */
  loadDeviceProgram?: DeviceProgramLoader;
}

type Apply = (r: LinuxResources, dir: string, ctx: ApplyContext) => Promise<void>;

/** The controllers berth enables for its cgroups, when the parent offers them. */
const ENABLE = ['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb', 'rdma', 'misc'];

const CONTROLLERS: { name: string; apply: Apply; wanted: (r: LinuxResources) => boolean }[] = [
  { name: 'cpuset', apply: cpuset.apply, wanted: (r) => !!(r.cpu?.cpus || r.cpu?.mems) },
  {
    name: 'memory',
    apply: memory.apply,
    wanted: (r) => !!(r.memory?.limit || r.memory?.swap || r.memory?.reservation),
  },
  {
    name: 'cpu',
    apply: cpu.apply,
    wanted: (r) =>
      !!(
        r.cpu &&
        (r.cpu.shares || r.cpu.quota || r.cpu.period || r.cpu.burst !== undefined || r.cpu.idle !== undefined)
      ),
  },
  { name: 'pids', apply: pids.apply, wanted: (r) => !!r.pids?.limit },
  {
    name: 'io',
    apply: io.apply,
    wanted: (r) => {
      const b = r.blockIO;
      return !!(
        b &&
        (b.weight ||
          b.weightDevice?.length ||
          b.throttleReadBpsDevice?.length ||
          b.throttleWriteBpsDevice?.length ||
          b.throttleReadIOPSDevice?.length ||
          b.throttleWriteIOPSDevice?.length)
      );
    },
  },
];

/** A `linux.resources.unified` key: one control file name, nothing that walks the tree. */
const UNIFIED_KEY = /^[a-z_]+\.[a-z_.]+$/;

class V2Driver implements CgroupDriver {
  readonly version = 2 as const;
  constructor(private readonly opts: CgroupV2DriverOptions) {}

  private dir(path: string): string {
    return cgroupDir(this.opts.root, validateCgroupPath(path, 'path'));
  }

  private async controllers(dir: string): Promise<string[]> {
    return (await readControl(dir, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean);
  }

  /**
   * Enables the wanted controllers `dir` offers and has not enabled yet in its subtree_control:
   * all at once, else one by one. /berth and the root have them on from the first container: a
   * write that changes nothing still takes the kernel's global cgroup_mutex, which every other
   * cgroup operation on the host waits for, where reading the file does not.
   */
  private async enableSubtree(dir: string): Promise<void> {
    const offered = (await this.controllers(dir)).filter((c) => ENABLE.includes(c));
    if (offered.length === 0) return;
    const on = new Set((await readControl(dir, 'cgroup.subtree_control')).trim().split(/\s+/));
    const missing = offered.filter((c) => !on.has(c));
    if (missing.length === 0) return;
    try {
      await writeControl(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    } catch {
      for (const c of missing)
        await writeControl(dir, 'cgroup.subtree_control', `+${c}`).catch((err: unknown) =>
          this.opts.logger?.warn('cgroup controller not enabled', { dir, controller: c, err: String(err) }),
        );
    }
  }

  private async apply(path: string, r: LinuxResources): Promise<CgroupApplyReport> {
    const dir = this.dir(path);
    const warnings: CgroupWarning[] = [];
    const ctx: ApplyContext = {
      warn: (w) => {
        warnings.push(w);
        this.opts.logger?.warn(w.message, { path, field: w.field, code: w.code });
      },
      ...(this.opts.loadDeviceProgram ? { loadDeviceProgram: this.opts.loadDeviceProgram } : {}),
    };
    // read only when a controller's resources are asked for (docker's defaults are devices only)
    let enabled: string[] | undefined;
    for (const c of CONTROLLERS) {
      if (!c.wanted(r)) continue;
      enabled ??= await this.controllers(dir);
      if (!enabled.includes(c.name))
        throw new BerthError(
          'CGROUP_UNSUPPORTED',
          `cgroup ${path}: linux.resources for ${c.name} need the ${c.name} controller, which is not enabled`,
          {
            input: { field: c.name },
          },
        );
      await c.apply(r, dir, ctx);
    }
    await devices.apply(r, dir, ctx);
    for (const [key, value] of Object.entries(r.unified ?? {})) {
      if (!UNIFIED_KEY.test(key) || key.startsWith('cgroup.'))
        throw new BerthError(
          'CGROUP_RESOURCE_INVALID',
          `linux.resources.unified: "${key.slice(0, 60)}" is not a controller file`,
          {
            input: { field: `linux.resources.unified.${key.slice(0, 60)}` },
          },
        );
      await writeControl(dir, key, value);
    }
    for (const [k, present] of [
      ['hugepageLimits', (r.hugepageLimits?.length ?? 0) > 0],
      ['network', r.network !== undefined],
      ['rdma', r.rdma !== undefined && Object.keys(r.rdma).length > 0],
    ] as const)
      if (present)
        ctx.warn({
          code: 'SETTING_IGNORED',
          field: `linux.resources.${k}`,
          message: `linux.resources.${k} is not supported by berth yet`,
        });
    return { warnings };
  }

  async create(
    path: string,
    resources: LinuxResources = {},
    opts: CgroupWaitOptions = {},
  ): Promise<CgroupApplyReport> {
    const parts = validateCgroupPath(path, 'path').split('/').filter(Boolean);
    precheck(resources);
    const made: string[] = [];
    try {
      let dir = this.opts.root;
      for (const part of parts) {
        opts.signal?.throwIfAborted();
        await this.enableSubtree(dir);
        dir = childPath(dir, part);
        try {
          // synchronous, as v1's: a mkdir in cgroupfs touches no disk (a promise was a thread
          // pool round trip per level)
          mkdirSync(dir, { mode: 0o755 });
          made.push(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      return await this.apply(path, resources);
    } catch (err) {
      for (const d of made.reverse()) await rmdir(d).catch(() => {});
      throw err;
    }
  }

  async update(path: string, resources: LinuxResources): Promise<CgroupApplyReport> {
    precheck(resources);
    if (!(await this.exists(path)))
      throw new BerthError('CGROUP_NOT_FOUND', `cgroup ${path}: does not exist`, {
        input: { field: 'path' },
      });
    return this.apply(path, resources);
  }

  async addProcess(path: string, pid: number): Promise<void> {
    if (!Number.isSafeInteger(pid) || pid <= 0)
      throw new BerthError('CGROUP_RESOURCE_INVALID', `pid ${pid}: not a process id`, {
        input: { field: 'pid' },
      });
    const dir = this.dir(path);
    try {
      await writeControl(dir, 'cgroup.procs', String(pid));
    } catch (err) {
      if (isBerthError(err) && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
        throw new BerthError('CGROUP_NOT_FOUND', `cgroup ${dir}: does not exist`, {
          input: { field: 'path' },
          cause: err,
        });
      throw err;
    }
  }

  directories(path: string): string[] {
    return [this.dir(path)];
  }

  async pids(path: string): Promise<number[]> {
    const dir = this.dir(path);
    const text = await readOptional(dir, 'cgroup.procs');
    return text === undefined ? [] : parsePids(text, join(dir, 'cgroup.procs')).sort((a, b) => a - b);
  }

  freeze(path: string, opts: CgroupWaitOptions = {}): Promise<void> {
    return freezer.set(this.dir(path), 'frozen', opts.signal);
  }

  thaw(path: string, opts: CgroupWaitOptions = {}): Promise<void> {
    return freezer.set(this.dir(path), 'thawed', opts.signal);
  }

  freezerState(path: string): Promise<FreezerState> {
    return freezer.state(this.dir(path));
  }

  async stats(path: string): Promise<CgroupStats> {
    const dir = this.dir(path);
    const enabled = await this.controllers(dir);
    const out: CgroupStats = {};
    if (enabled.includes('memory')) out.memory = await memory.stats(dir);
    // cpu.stat exists with or without the cpu controller (usage is always accounted)
    out.cpu = await cpu.stats(dir);
    if (enabled.includes('pids')) out.pids = await pids.stats(dir);
    if (enabled.includes('io')) out.blkio = await io.stats(dir);
    return out;
  }

  async oomEvents(path: string): Promise<OomEvents> {
    const dir = this.dir(path);
    if (!(await hasControl(dir, 'memory.events'))) {
      await readControl(dir, 'cgroup.procs'); // CGROUP_NOT_FOUND when missing
      throw new BerthError(
        'CGROUP_UNSUPPORTED',
        `cgroup ${path}: OOM detection needs the memory controller, which is not enabled`,
        {
          input: { field: 'memory' },
        },
      );
    }
    return memory.oomEvents(dir);
  }

  async exists(path: string): Promise<boolean> {
    try {
      return (await stat(this.dir(path))).isDirectory();
    } catch (err) {
      if (isBerthError(err)) throw err;
      return false;
    }
  }

  async destroy(
    path: string,
    opts: { force?: boolean; concurrent?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    const dir = this.dir(path);
    const killAll = async () => {
      // cgroup.kill (5.14+) kills the whole subtree atomically, frozen tasks included
      if (await hasControl(dir, 'cgroup.kill')) {
        await writeControl(dir, 'cgroup.kill', '1').catch(() => {});
        return;
      }
      for (const pid of subtreePids(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    // tasks are killed only when the first rmdir finds some: an exited container has none left,
    // and reading every cgroup.procs up front cost eleven reads per removal on v1
    await removeCgroupDir(dir, {
      ...(opts.force ? { beforeRetry: killAll } : {}),
      ...(opts.concurrent ? { pool: true } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }
}

/**
 * Creates a cgroup v2 driver over the unified hierarchy at `root`.
 *
 * @example
 * ```ts
 * const cg = createCgroupV2Driver({ root: '/sys/fs/cgroup' });
 * const { warnings } = await cg.create('/berth/web', { memory: { limit: 64 << 20, swap: 128 << 20 } });
 * await cg.addProcess('/berth/web', pid);
 * ```
 */
export function createCgroupV2Driver(opts: CgroupV2DriverOptions): CgroupDriver {
  return new V2Driver(opts);
}
