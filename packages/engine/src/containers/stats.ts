/**
 * `docker stats` on the engine side: one sample of a container's usage in the Engine API's
 * `ContainerStatsResponse` shape (moby daemon/stats), from the runtime (the cgroup's memory,
 * CPU, pids and block I/O, the network namespace's counters) and the host's `/proc/stat` for
 * the system CPU time the client divides by. Callers take two samples and compute rates, as
 * docker's client does with `precpu_stats`.
 */
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { isBerthError } from '@berth/oci';
import type { NetworkStats, ContainerStats as RuntimeStats } from '@berth/runtime';
import type { ServiceInternals } from './internals.js';
import { ZERO_TIME } from './status.js';

/** One network interface's counters (Engine API `NetworkStats`): the runtime's reading. */
export type ContainerNetworkStats = NetworkStats;

/** The Engine API's `ContainerStatsResponse` (Linux fields). */
export interface ContainerStatsResponse {
  /** `/name`. */
  name: string;
  id: string;
  /** When the sample was taken (RFC 3339); Go's zero time for a container that is not running. */
  read: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: { major: number; minor: number; op: string; value: number }[] | null;
  };
  cpu_stats: {
    cpu_usage: {
      total_usage: number;
      percpu_usage?: number[];
      usage_in_kernelmode: number;
      usage_in_usermode: number;
    };
    /** Host CPU time in nanoseconds (the sum of /proc/stat's first `cpu` line). */
    system_cpu_usage?: number;
    online_cpus?: number;
    throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
  };
  memory_stats: {
    usage?: number;
    max_usage?: number;
    stats?: Record<string, number>;
    failcnt?: number;
    /** The cgroup's limit, or the host's memory when unlimited (as moby reports it). */
    limit?: number;
  };
  /** Per interface, `lo` left out; absent with `--network host` (as docker reports it). */
  networks?: Record<string, ContainerNetworkStats>;
}

/** USER_HZ: the unit of /proc/stat (100 on every Linux architecture berth runs on). */
const CLOCK_TICKS = 100;

/** The host's CPU time in nanoseconds and its online CPUs, as moby's `getSystemCPUUsage`. */
export function parseProcStat(text: string): { systemNs: number; onlineCpus: number } {
  let systemNs = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') {
      // user nice system idle iowait irq softirq, as moby sums them
      const ticks = f.slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
      systemNs = (ticks * 1e9) / CLOCK_TICKS;
    } else if (/^cpu\d+$/.test(f[0] ?? '')) onlineCpus++;
  }
  return { systemNs, onlineCpus };
}

function emptyStats(id: string, name: string): ContainerStatsResponse {
  return {
    name,
    id,
    read: ZERO_TIME,
    pids_stats: {},
    blkio_stats: { io_service_bytes_recursive: null },
    cpu_stats: {
      cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    },
    memory_stats: {},
  };
}

/** Converts the runtime's sample into the Engine API's shape. */
export function statsResponse(
  id: string,
  name: string,
  s: RuntimeStats,
  host: { systemNs: number; onlineCpus: number; memTotal: number; read: string },
): ContainerStatsResponse {
  const out = emptyStats(id, name);
  out.read = host.read;
  if (s.pids) out.pids_stats = { current: s.pids.current, ...(s.pids.limit ? { limit: s.pids.limit } : {}) };
  if (s.blkio) out.blkio_stats.io_service_bytes_recursive = s.blkio.ioServiceBytes.map((e) => ({ ...e }));
  if (s.cpu) {
    out.cpu_stats.cpu_usage = {
      total_usage: s.cpu.totalUsageNs,
      ...(s.cpu.perCpuNs ? { percpu_usage: s.cpu.perCpuNs } : {}),
      usage_in_kernelmode: s.cpu.systemNs ?? 0,
      usage_in_usermode: s.cpu.userNs ?? 0,
    };
    if (s.cpu.throttling)
      out.cpu_stats.throttling_data = {
        periods: s.cpu.throttling.periods,
        throttled_periods: s.cpu.throttling.throttledPeriods,
        throttled_time: s.cpu.throttling.throttledTimeNs,
      };
  }
  out.cpu_stats.system_cpu_usage = host.systemNs;
  out.cpu_stats.online_cpus = host.onlineCpus;
  if (s.memory) {
    const limit = s.memory.limit;
    out.memory_stats = {
      usage: s.memory.usage,
      ...(s.memory.maxUsage !== undefined ? { max_usage: s.memory.maxUsage } : {}),
      stats: { ...s.memory.stat },
      ...(s.memory.failcnt !== undefined ? { failcnt: s.memory.failcnt } : {}),
      // moby: a limit above the machine's memory (unlimited) is reported as the machine's
      limit: limit === undefined || limit > host.memTotal ? host.memTotal : limit,
    };
  }
  if (s.networks) out.networks = s.networks;
  return out;
}

/**
 * One sample of a container's usage; a container that is not running (or whose cgroup is not
 * berth's to read) gives docker's empty sample.
 * @throws CONTAINER_NOT_FOUND
 */
export async function containerStats(s: ServiceInternals, ref: string): Promise<ContainerStatsResponse> {
  const rt = await s.runtime();
  const rec = await s.read(ref);
  const live = await s.liveState(rt, rec);
  if (!live.Running) return emptyStats(rec.Id, rec.Name);
  const [sample, procStat] = await Promise.all([
    rt.stats(rec.Id).catch((err: unknown) => {
      if (
        isBerthError(err, 'CGROUP_UNSUPPORTED') ||
        isBerthError(err, 'CGROUP_NOT_FOUND') ||
        isBerthError(err, 'CONTAINER_NOT_FOUND')
      )
        return undefined;
      throw err;
    }),
    readFile('/proc/stat', 'utf8'),
  ]);
  if (!sample) return emptyStats(rec.Id, rec.Name);
  return statsResponse(rec.Id, rec.Name, sample, {
    ...parseProcStat(procStat),
    memTotal: totalmem(),
    read: new Date().toISOString(),
  });
}
