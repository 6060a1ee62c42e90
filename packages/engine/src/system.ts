/**
 * `docker info` for a daemonless engine: counts from the container records and the image
 * store, and facts about the host berth runs containers on (cgroup version, kernel, OS, CPUs,
 * memory, the runtimes installed), in the Engine API's `SystemInfo` shape.
 */
import { readFile } from 'node:fs/promises';
import { cpus, hostname, machine, release, totalmem } from 'node:os';
import { availableRuntimes, DEFAULT_RUNTIME, runtimeSearchPath } from './containers/runtimes.js';
import type { ContainerService } from './containers/service.js';
import type { EngineContext } from './context.js';

/** The Engine API's `SystemInfo`, the fields berth has. */
export interface SystemInfo {
  ID: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  /** `berth-overlay` or `berth-copy` (as `inspect`'s GraphDriver). */
  Driver: string;
  DriverStatus: [string, string][];
  LoggingDriver: string;
  CgroupDriver: string;
  /** `1` (hybrid included) or `2`. */
  CgroupVersion: string;
  KernelVersion: string;
  OperatingSystem: string;
  OSVersion: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  /** The state root. */
  DockerRootDir: string;
  Name: string;
  ServerVersion: string;
  Runtimes: Record<string, { path: string }>;
  DefaultRuntime: string;
  InitBinary: string;
  /** docker's form: `name=seccomp,profile=builtin`. */
  SecurityOptions: string[];
  Warnings: string[] | null;
}

/** PRETTY_NAME and VERSION_ID of os-release(5). */
export function parseOsRelease(text: string): { pretty: string; version: string } {
  const get = (k: string) => {
    const m = new RegExp(`^${k}=(.*)$`, 'm').exec(text);
    return m ? (m[1] as string).trim().replace(/^(["'])(.*)\1$/, '$2') : '';
  };
  return { pretty: get('PRETTY_NAME') || 'Linux', version: get('VERSION_ID') };
}

/** The filesystem type the path lives on (the longest mount point above it), as `Backing Filesystem`. */
export function backingFilesystem(mountinfo: string, path: string): string {
  let best = '';
  let fstype = '';
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    const mp = (f[4] ?? '').replace(/\\(\d{3})/g, (_, o: string) =>
      String.fromCharCode(Number.parseInt(o, 8)),
    );
    const under = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    if (under && mp.length >= best.length) {
      best = mp;
      fstype = f[sep + 1] ?? '';
    }
  }
  return fstype === 'ext4' || fstype === 'ext3' || fstype === 'ext2' ? 'extfs' : fstype;
}

/** Gathers `docker info`. */
export async function systemInfo(
  ctx: EngineContext,
  containers: ContainerService,
  opts: { searchPath?: string; serverVersion?: string } = {},
): Promise<SystemInfo> {
  const [list, images, osRelease, mountinfo, runtimes, sn] = await Promise.all([
    containers.list({ all: true }),
    ctx.store.images.list(),
    readFile('/etc/os-release', 'utf8').catch(() => ''),
    readFile('/proc/self/mountinfo', 'utf8').catch(() => ''),
    availableRuntimes(runtimeSearchPath(opts.searchPath)),
    ctx.snapshotter(),
  ]);
  const { detectCgroupHost } = await import('@berth/runtime');
  let cgroupVersion = '';
  try {
    cgroupVersion = String(detectCgroupHost(mountinfo).version);
  } catch {
    // no cgroups mounted: containers run without limits; info says so by leaving it empty
  }
  const os = parseOsRelease(osRelease);
  const running = list.filter((c) => c.State === 'running').length;
  const paused = list.filter((c) => c.State === 'paused').length;
  return {
    ID: '',
    Containers: list.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: list.length - running - paused,
    Images: images.length,
    Driver: `berth-${sn.driver}`,
    DriverStatus: [['Backing Filesystem', backingFilesystem(mountinfo, ctx.root)]],
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cgroupVersion,
    KernelVersion: release(),
    OperatingSystem: os.pretty,
    OSVersion: os.version,
    OSType: 'linux',
    Architecture: machine(),
    NCPU: cpus().length,
    MemTotal: totalmem(),
    DockerRootDir: ctx.root,
    Name: hostname(),
    ServerVersion: opts.serverVersion ?? '',
    Runtimes: runtimes,
    DefaultRuntime: DEFAULT_RUNTIME,
    InitBinary: 'berth-init',
    SecurityOptions: ['name=seccomp,profile=builtin'],
    Warnings: null,
  };
}
