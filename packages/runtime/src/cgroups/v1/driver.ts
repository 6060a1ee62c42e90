/**
 * The cgroup v1 driver (also hybrid hosts): one directory per hierarchy, each controller
 * applied in its own hierarchy, the process placed in every hierarchy — name=systemd and, on
 * a hybrid host, the cgroup2 mount too, as runc does.
 */
import { mkdirSync, rmdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LinuxResources, Logger } from '@berth/oci';
import { BerthError, isBerthError } from '@berth/oci';
import { cgroupDir, parsePids, readControl, readOptional, writeControl } from '../files.js';
import type { V1Hierarchy } from '../mountinfo.js';
import { validateCgroupPath } from '../path.js';
import { precheck } from '../precheck.js';
import { removeCgroupDir, rmdirsOnPool, subtreePids } from '../remove.js';
import type {
  ApplyContext,
  CgroupApplyReport,
  CgroupDriver,
  CgroupStats,
  CgroupWaitOptions,
  CgroupWarning,
  FreezerState,
  OomEvents,
} from '../types.js';
import * as blkio from './blkio.js';
import * as cpu from './cpu.js';
import * as cpuacct from './cpuacct.js';
import * as cpuset from './cpuset.js';
import * as devices from './devices.js';
import * as freezer from './freezer.js';
import * as memory from './memory.js';
import * as pids from './pids.js';

/** Options of {@link createCgroupV1Driver}. */
export interface CgroupV1DriverOptions {
  /** The mounted hierarchies (from {@link detectCgroupHost}, or a fixture tree). */
  hierarchies: V1Hierarchy[];
  /** The cgroup2 mount of a hybrid host; the process is placed there too. */
  unified?: string;
  logger?: Logger;
}

type Apply = (r: LinuxResources, dir: string, ctx: ApplyContext) => Promise<void>;

/** Controllers in the order runc applies them; each with the resources that need it. */
const CONTROLLERS: { name: string; apply: Apply; wanted: (r: LinuxResources) => boolean }[] = [
  { name: 'cpuset', apply: cpuset.apply, wanted: (r) => !!(r.cpu?.cpus || r.cpu?.mems) },
  {
    name: 'devices',
    apply: devices.apply,
    wanted: (r) => (r.devices?.length ?? 0) > 0,
  },
  {
    name: 'memory',
    apply: memory.apply,
    wanted: (r) => {
      const m = r.memory;
      return !!(
        m &&
        (m.limit || m.reservation || m.swap || m.disableOOMKiller || m.swappiness !== undefined)
      );
    },
  },
  {
    name: 'cpu',
    apply: cpu.apply,
    wanted: (r) => {
      const c = r.cpu;
      return !!(
        c &&
        (c.shares ||
          c.quota ||
          c.period ||
          c.realtimePeriod ||
          c.realtimeRuntime ||
          c.burst !== undefined ||
          c.idle !== undefined)
      );
    },
  },
  { name: 'pids', apply: pids.apply, wanted: (r) => !!r.pids?.limit },
  {
    name: 'blkio',
    apply: blkio.apply,
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

class V1Driver implements CgroupDriver {
  readonly version = 1 as const;
  private readonly byController = new Map<string, V1Hierarchy>();
  constructor(private readonly opts: CgroupV1DriverOptions) {
    for (const h of opts.hierarchies)
      for (const c of h.controllers) if (!this.byController.has(c)) this.byController.set(c, h);
  }

  /** Every directory the cgroup has: one per hierarchy, plus the unified one of a hybrid host. */
  private dirs(path: string): string[] {
    const p = validateCgroupPath(path, 'path');
    const out = this.opts.hierarchies.map((h) => cgroupDir(h.mountpoint, p));
    if (this.opts.unified) out.push(cgroupDir(this.opts.unified, p));
    return out;
  }

  private dir(controller: string, path: string): string | undefined {
    const h = this.byController.get(controller);
    return h ? cgroupDir(h.mountpoint, validateCgroupPath(path, 'path')) : undefined;
  }

  private need(controller: string, path: string, what: string): string {
    const d = this.dir(controller, path);
    if (!d)
      throw new BerthError(
        'CGROUP_UNSUPPORTED',
        `cgroup ${path}: ${what} needs the ${controller} controller, which is not mounted`,
        {
          input: { field: controller },
        },
      );
    return d;
  }

  private async apply(path: string, r: LinuxResources): Promise<CgroupApplyReport> {
    const warnings: CgroupWarning[] = [];
    const ctx: ApplyContext = {
      warn: (w) => {
        warnings.push(w);
        this.opts.logger?.warn(w.message, { path, field: w.field, code: w.code });
      },
    };
    if (r.unified && Object.keys(r.unified).length > 0)
      throw new BerthError(
        'CGROUP_RESOURCE_INVALID',
        `linux.resources.unified: cgroup v2 settings cannot be applied on cgroup v1`,
        {
          input: { field: 'linux.resources.unified' },
        },
      );
    for (const c of CONTROLLERS) {
      if (!c.wanted(r)) continue;
      await c.apply(r, this.need(c.name, path, `linux.resources for ${c.name}`), ctx);
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
    const dirs = this.dirs(path);
    precheck(resources);
    const made: { first: string; dir: string }[] = [];
    try {
      // synchronous: a mkdir in cgroupfs touches no disk, and a hybrid host has ten directories
      // (files.ts)
      opts.signal?.throwIfAborted();
      for (const d of dirs) {
        const first = mkdirSync(d, { recursive: true, mode: 0o755 });
        if (first !== undefined) made.push({ first, dir: d });
      }
      const cs = this.byController.get('cpuset');
      if (cs) await cpuset.inheritParents(cs.mountpoint, validateCgroupPath(path, 'path'));
      return await this.apply(path, resources);
    } catch (err) {
      // remove what this call created, deepest first
      for (const { first, dir } of made.reverse()) {
        for (let d = dir; d.length >= first.length; d = join(d, '..')) {
          try {
            rmdirSync(d);
          } catch {
            // busy or gone: left as it is
          }
        }
      }
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
    for (const d of this.dirs(path)) {
      try {
        await writeControl(d, 'cgroup.procs', String(pid));
      } catch (err) {
        if (isBerthError(err) && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
          throw new BerthError('CGROUP_NOT_FOUND', `cgroup ${d}: does not exist`, {
            input: { field: 'path' },
            cause: err,
          });
        throw err;
      }
    }
  }

  directories(path: string): string[] {
    return this.dirs(path);
  }

  async pids(path: string): Promise<number[]> {
    const all = new Set<number>();
    for (const d of this.dirs(path)) {
      const text = await readOptional(d, 'cgroup.procs');
      if (text !== undefined) for (const p of parsePids(text, join(d, 'cgroup.procs'))) all.add(p);
    }
    return [...all].sort((a, b) => a - b);
  }

  async freeze(path: string, opts: CgroupWaitOptions = {}): Promise<void> {
    await freezer.set(this.need('freezer', path, 'pause'), 'frozen', opts.signal);
  }

  async thaw(path: string, opts: CgroupWaitOptions = {}): Promise<void> {
    await freezer.set(this.need('freezer', path, 'unpause'), 'thawed', opts.signal);
  }

  freezerState(path: string): Promise<FreezerState> {
    return freezer.state(this.need('freezer', path, 'the freezer state'));
  }

  async stats(path: string): Promise<CgroupStats> {
    const out: CgroupStats = {};
    const mem = this.dir('memory', path);
    if (mem) out.memory = await memory.stats(mem);
    const acct = this.dir('cpuacct', path);
    const cpuDir = this.dir('cpu', path);
    if (acct) {
      const c = await cpuacct.stats(acct);
      const t = cpuDir ? await cpu.throttling(cpuDir) : undefined;
      out.cpu = { ...c, ...(t ? { throttling: t } : {}) };
    }
    const p = this.dir('pids', path);
    if (p) out.pids = await pids.stats(p);
    const b = this.dir('blkio', path);
    if (b) {
      await readControl(b, 'cgroup.procs'); // CGROUP_NOT_FOUND when missing
      out.blkio = await blkio.stats(b);
    }
    return out;
  }

  oomEvents(path: string): Promise<OomEvents> {
    return memory.oomEvents(this.need('memory', path, 'OOM detection'));
  }

  async exists(path: string): Promise<boolean> {
    const d = this.dirs(path)[0];
    if (d === undefined) return false;
    try {
      return (await stat(d)).isDirectory();
    } catch {
      return false;
    }
  }

  async destroy(
    path: string,
    opts: { force?: boolean; concurrent?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    const dirs = this.dirs(path);
    const killAll = async () => {
      const fz = this.dir('freezer', path);
      // a frozen task cannot act on SIGKILL until thawed
      if (fz && (await readOptional(fz, 'freezer.state'))?.trim() !== 'THAWED')
        await writeControl(fz, 'freezer.state', 'THAWED').catch(() => {});
      // every hierarchy's subtree: a task in a sub-cgroup keeps the cgroup as busy
      for (const pid of new Set(dirs.flatMap((d) => subtreePids(d)))) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    // tasks are killed only when the first rmdir finds some: an exited container has none left,
    // and reading every cgroup.procs up front cost eleven reads per removal on v1
    const each = {
      ...(opts.force ? { beforeRetry: killAll } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    // beside other removals: every hierarchy's rmdir in one thread-pool job (the common case: no
    // task, no sub-cgroup left); what it could not remove goes the way below
    if (opts.concurrent && (await rmdirsOnPool(dirs))) return;
    if (opts.concurrent) await Promise.all(dirs.map((d) => removeCgroupDir(d, { ...each, pool: true })));
    else for (const d of dirs) await removeCgroupDir(d, each);
  }
}

/**
 * Creates a cgroup v1 driver over the given hierarchies.
 *
 * @example
 * ```ts
 * const host = detectCgroupHost(await readFile('/proc/self/mountinfo', 'utf8'));
 * if (host.version === 1) {
 *   const cg = createCgroupV1Driver({ hierarchies: host.hierarchies, unified: host.unified });
 *   await cg.create('/berth/web', { memory: { limit: 64 << 20 }, pids: { limit: 20 } });
 * }
 * ```
 */
export function createCgroupV1Driver(opts: CgroupV1DriverOptions): CgroupDriver {
  return new V1Driver(opts);
}
