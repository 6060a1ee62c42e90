/**
 * docker run's resource flags → the spec's `linux.resources`, with the daemon's own checks and
 * defaults (moby daemon/daemon_unix.go verifyPlatformContainerResources, adaptContainerSettings):
 * --memory-swap defaults to twice --memory, --cpus becomes a 100 ms period with its quota,
 * shares are clamped to 2..262144.
 */
import type { LinuxResources } from '@berth/oci';
import { BerthError } from '@berth/oci';

/** The resource flags of `docker run` / `docker update`, in bytes, CPUs and microseconds. */
export interface DockerResourceOptions {
  /** --memory, bytes. */
  memory?: number;
  /** --memory-swap, bytes of memory+swap; -1 unlimited. Defaults to 2 × memory. */
  memorySwap?: number;
  /** --memory-reservation, bytes. */
  memoryReservation?: number;
  /** --memory-swappiness, 0..100 (-1 = the host's). */
  memorySwappiness?: number;
  /** --oom-kill-disable. */
  oomKillDisable?: boolean;
  /** --cpus, fractional CPUs. */
  cpus?: number;
  /** --cpu-shares. */
  cpuShares?: number;
  /** --cpu-period, µs. */
  cpuPeriod?: number;
  /** --cpu-quota, µs. */
  cpuQuota?: number;
  /** --cpuset-cpus, e.g. `0-2,4`. */
  cpusetCpus?: string;
  /** --cpuset-mems. */
  cpusetMems?: string;
  /** --pids-limit; 0 or negative = unlimited. */
  pidsLimit?: number;
  /** --blkio-weight, 10..1000 (0 = unset). */
  blkioWeight?: number;
  /** Online CPUs of the host, to check --cpus (docker refuses more than there are). */
  hostCpus?: number;
}

/** docker's minimum for --memory and --memory-reservation (6 MiB, linuxMinMemory). */
export const DOCKER_MIN_MEMORY = 6 * 1024 * 1024;
/** The CFS period docker uses for --cpus (100 ms). */
export const DOCKER_CPU_PERIOD = 100000;

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function fail(flag: string, why: string): BerthError {
  return new BerthError('CGROUP_RESOURCE_INVALID', `${flag}: ${why}`, { input: { field: flag } });
}

function int(v: number | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v)) throw fail(flag, `${v} is not an integer`);
  return v;
}

/**
 * Turns docker's resource flags into `linux.resources` (without the device list, which
 * {@link buildSpec} writes).
 *
 * @example
 * ```ts
 * dockerResources({ memory: 64 << 20, cpus: 0.5, pidsLimit: 20 });
 * // { memory: { limit: 67108864, swap: 134217728 }, cpu: { period: 100000, quota: 50000 }, pids: { limit: 20 } }
 * ```
 * @throws BerthError CGROUP_RESOURCE_INVALID naming the flag, with docker's reason
 */
export function dockerResources(o: DockerResourceOptions): LinuxResources {
  const out: LinuxResources = {};
  const memory = int(o.memory, '--memory') ?? 0;
  let swap = int(o.memorySwap, '--memory-swap') ?? 0;
  const reservation = int(o.memoryReservation, '--memory-reservation') ?? 0;
  if (memory < 0) throw fail('--memory', `${memory} is negative`);
  if (memory > 0 && memory < DOCKER_MIN_MEMORY) throw fail('--memory', 'minimum memory limit allowed is 6MB');
  if (swap > 0 && memory === 0)
    throw fail('--memory-swap', 'you should always set the memory limit when using memoryswap limit');
  if (swap > 0 && swap < memory)
    throw fail('--memory-swap', 'minimum memoryswap limit should be larger than memory limit');
  if (swap < -1) throw fail('--memory-swap', `${swap} is neither a size nor -1`);
  if (memory > 0 && swap === 0) swap = memory * 2;
  if (reservation < 0) throw fail('--memory-reservation', `${reservation} is negative`);
  if (reservation > 0 && reservation < DOCKER_MIN_MEMORY)
    throw fail('--memory-reservation', 'minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > memory)
    throw fail('--memory-reservation', 'minimum memory limit can not be less than memory reservation limit');
  const swappiness = int(o.memorySwappiness, '--memory-swappiness');
  if (swappiness !== undefined && swappiness !== -1 && (swappiness < 0 || swappiness > 100))
    throw fail('--memory-swappiness', `invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  const mem: NonNullable<LinuxResources['memory']> = {};
  if (memory > 0) mem.limit = memory;
  if (swap !== 0) mem.swap = swap;
  if (reservation > 0) mem.reservation = reservation;
  if (swappiness !== undefined && swappiness !== -1) mem.swappiness = swappiness;
  if (o.oomKillDisable) mem.disableOOMKiller = true;
  if (Object.keys(mem).length > 0) out.memory = mem;

  const cpu: NonNullable<LinuxResources['cpu']> = {};
  const period = int(o.cpuPeriod, '--cpu-period') ?? 0;
  const quota = int(o.cpuQuota, '--cpu-quota') ?? 0;
  if (o.cpus !== undefined && o.cpus !== 0) {
    if (period !== 0 || quota !== 0)
      throw fail('--cpus', 'conflicting options: Nano CPUs and CPU Period/Quota cannot both be set');
    const nano = Math.round(o.cpus * 1e9);
    if (!Number.isFinite(o.cpus) || nano < 0) throw fail('--cpus', `${o.cpus} is not a CPU count`);
    if (o.hostCpus !== undefined && nano > o.hostCpus * 1e9)
      throw fail(
        '--cpus',
        `range of CPUs is from 0.01 to ${o.hostCpus}.00, as there are only ${o.hostCpus} CPUs available`,
      );
    cpu.period = DOCKER_CPU_PERIOD;
    cpu.quota = Math.floor((nano * DOCKER_CPU_PERIOD) / 1e9);
    if (cpu.quota < 1000) throw fail('--cpus', 'range of CPUs is from 0.01');
  }
  if (period !== 0 && (period < 1000 || period > 1000000))
    throw fail(
      '--cpu-period',
      'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)',
    );
  if (quota > 0 && quota < 1000)
    throw fail('--cpu-quota', 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (period !== 0) cpu.period = period;
  if (quota !== 0) cpu.quota = quota;
  const shares = int(o.cpuShares, '--cpu-shares') ?? 0;
  if (shares < 0) throw fail('--cpu-shares', `${shares} is negative`);
  if (shares > 0) cpu.shares = Math.min(Math.max(shares, 2), 262144);
  for (const [flag, v, key] of [
    ['--cpuset-cpus', o.cpusetCpus, 'cpus'],
    ['--cpuset-mems', o.cpusetMems, 'mems'],
  ] as const) {
    if (v === undefined || v === '') continue;
    if (!CPU_LIST.test(v)) throw fail(flag, `invalid value ${v.slice(0, 40)}`);
    cpu[key] = v;
  }
  if (Object.keys(cpu).length > 0) out.cpu = cpu;

  const pids = int(o.pidsLimit, '--pids-limit');
  if (pids !== undefined) out.pids = { limit: pids > 0 ? pids : -1 };
  const weight = int(o.blkioWeight, '--blkio-weight') ?? 0;
  if (weight !== 0 && (weight < 10 || weight > 1000))
    throw fail('--blkio-weight', 'range of blkio weight is from 10 to 1000');
  if (weight !== 0) out.blockIO = { weight };
  return out;
}
