/**
 * Test helper: generated cgroupfs trees for the cgroup drivers (youki's `set_fixture`). A tree
 * holds the control files a kernel would show, with its default values, so a driver runs
 * unchanged against it with no root and no kernel. What the kernel does on its own is
 * simulated only where a driver waits for it: v2 cgroup.events follows cgroup.freeze, v1
 * freezer.state reads back what was written. Creating a child cgroup means calling
 * `populate(path)` first (mkdir on cgroupfs fills the directory; on a plain tree it cannot).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Hierarchy } from '../cgroups/mountinfo.js';

const UNLIMITED = '9223372036854771712\n';

/** The files of a new v1 cgroup per hierarchy, with the kernel's initial values (kernel 6.x). */
export const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': UNLIMITED,
    'memory.memsw.limit_in_bytes': UNLIMITED,
    'memory.soft_limit_in_bytes': UNLIMITED,
    'memory.usage_in_bytes': '0\n',
    'memory.max_usage_in_bytes': '0\n',
    'memory.failcnt': '0\n',
    'memory.swappiness': '60\n',
    'memory.stat': 'cache 0\nrss 0\nmapped_file 0\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
  },
  cpu: {
    'cpu.shares': '1024\n',
    'cpu.cfs_period_us': '100000\n',
    'cpu.cfs_quota_us': '-1\n',
    'cpu.cfs_burst_us': '0\n',
    'cpu.rt_period_us': '1000000\n',
    'cpu.rt_runtime_us': '0\n',
    'cpu.idle': '0\n',
    'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
  },
  cpuacct: {
    'cpuacct.usage': '0\n',
    'cpuacct.usage_percpu': '0 0 \n',
    'cpuacct.stat': 'user 0\nsystem 0\n',
  },
  cpuset: { 'cpuset.cpus': '\n', 'cpuset.mems': '\n', 'cgroup.clone_children': '0\n' },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
  freezer: { 'freezer.state': 'THAWED\n' },
  blkio: {
    'blkio.bfq.weight': '100\n',
    'blkio.bfq.weight_device': '',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
    'blkio.throttle.io_service_bytes_recursive': 'Total 0\n',
  },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  'name=systemd': {},
};

/** The files of a new v2 cgroup (all controllers enabled), with the kernel's initial values. */
export const V2_FILES: Record<string, string> = {
  'cgroup.controllers': 'cpuset cpu io memory pids\n',
  'cgroup.subtree_control': '\n',
  'cgroup.events': 'populated 0\nfrozen 0\n',
  'cgroup.freeze': '0\n',
  'cgroup.kill': '',
  'memory.max': 'max\n',
  'memory.swap.max': 'max\n',
  'memory.low': '0\n',
  'memory.current': '0\n',
  'memory.peak': '0\n',
  'memory.stat': 'anon 0\nfile 0\n',
  'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n',
  'cpu.weight': '100\n',
  'cpu.max': 'max 100000\n',
  'cpu.max.burst': '0\n',
  'cpu.idle': '0\n',
  'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n',
  'cpuset.cpus': '\n',
  'cpuset.mems': '\n',
  'pids.max': 'max\n',
  'pids.current': '0\n',
  'io.weight': 'default 100\n',
  'io.max': '',
  'io.stat': '',
};

/** A generated tree and the helpers that stand in for the kernel's side. */
export interface CgroupFixture {
  root: string;
  /** Creates the directories of a cgroup path, each filled like the kernel fills it. */
  populate(path: string): void;
  /** Drops the control files under a path, as they vanish with rmdir on cgroupfs. */
  unpopulate(path: string): void;
  /** Reads a control file of a cgroup (`controller` names the v1 hierarchy; ignored on v2). */
  read(path: string, file: string, controller?: string): string;
  /** Overwrites a control file (to play the kernel: counters, events). */
  write(path: string, file: string, value: string, controller?: string): void;
  /** Stops the simulated kernel. */
  close(): void;
}

function fill(dir: string, files: Record<string, string>, omit: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['cgroup.procs', 'tasks', 'notify_on_release'])
    if (!existsSync(join(dir, f))) writeFileSync(join(dir, f), '');
  for (const [f, v] of Object.entries(files))
    if (!omit.includes(f) && !existsSync(join(dir, f))) writeFileSync(join(dir, f), v);
}

function unfill(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) unfill(p);
    else rmSync(p);
  }
}

function eachDir(root: string, path: string, fn: (dir: string) => void): void {
  let dir = root;
  for (const part of path.split('/').filter(Boolean)) {
    dir = join(dir, part);
    fn(dir);
  }
}

/** Options of the fixture makers. */
export interface FixtureOptions {
  /** Control files this "kernel" lacks (e.g. `memory.memsw.limit_in_bytes`, `blkio.bfq.weight`). */
  omit?: string[];
}

/** A v1 fixture: one directory per hierarchy as on this machine (cpu and cpuacct apart), plus `unified`. */
export function makeV1Fixture(
  root: string,
  opts: FixtureOptions = {},
): CgroupFixture & {
  hierarchies: V1Hierarchy[];
  unified: string;
} {
  const omit = opts.omit ?? [];
  const hierarchies: V1Hierarchy[] = Object.keys(V1_FILES).map((c) => ({
    mountpoint: join(root, c.startsWith('name=') ? c.slice(5) : c),
    root: '/',
    controllers: [c],
  }));
  const unified = join(root, 'unified');
  for (const h of hierarchies) {
    mkdirSync(h.mountpoint, { recursive: true });
    fill(h.mountpoint, {}, omit);
  }
  writeFileSync(join(root, 'cpuset/cpuset.cpus'), '0-1\n');
  writeFileSync(join(root, 'cpuset/cpuset.mems'), '0\n');
  fill(unified, { 'cgroup.controllers': '\n', 'cgroup.subtree_control': '\n' }, omit);
  const mp = (controller: string) => {
    const h = hierarchies.find((x) => x.controllers.includes(controller));
    if (!h) throw new Error(`fixture: no hierarchy ${controller}`);
    return h.mountpoint;
  };
  return {
    root,
    hierarchies,
    unified,
    populate(path) {
      for (const h of hierarchies)
        eachDir(h.mountpoint, path, (d) => fill(d, V1_FILES[h.controllers[0]!]!, omit));
      eachDir(unified, path, (d) =>
        fill(d, { 'cgroup.controllers': '\n', 'cgroup.events': 'populated 0\n' }, omit),
      );
    },
    unpopulate(path) {
      for (const m of [...hierarchies.map((h) => h.mountpoint), unified]) unfill(join(m, path));
    },
    read: (path, file, controller = 'memory') => readFileSync(join(mp(controller), path, file), 'utf8'),
    write: (path, file, value, controller = 'memory') =>
      writeFileSync(join(mp(controller), path, file), value),
    close() {},
  };
}

/** A v2 fixture: a cgroup2 root offering cpuset, cpu, io, memory and pids. */
export function makeV2Fixture(root: string, opts: FixtureOptions = {}): CgroupFixture {
  const omit = opts.omit ?? [];
  fill(root, { 'cgroup.controllers': 'cpuset cpu io memory pids\n', 'cgroup.subtree_control': '\n' }, omit);
  const leaves = new Set<string>();
  // the kernel's side of the freezer: cgroup.events follows cgroup.freeze
  const timer = setInterval(() => {
    for (const d of leaves) {
      try {
        const want = readFileSync(join(d, 'cgroup.freeze'), 'utf8').trim() === '1' ? 1 : 0;
        const ev = readFileSync(join(d, 'cgroup.events'), 'utf8');
        const next = ev.replace(/^frozen \d$/m, `frozen ${want}`);
        if (next !== ev) writeFileSync(join(d, 'cgroup.events'), next);
      } catch {
        // removed meanwhile
      }
    }
  }, 2);
  timer.unref();
  return {
    root,
    populate(path) {
      eachDir(root, path, (d) => {
        fill(d, V2_FILES, omit);
        leaves.add(d);
      });
    },
    unpopulate(path) {
      unfill(join(root, path));
    },
    read: (path, file) => readFileSync(join(root, path, file), 'utf8'),
    write: (path, file, value) => writeFileSync(join(root, path, file), value),
    close: () => clearInterval(timer),
  };
}
