import type { ContainerStatsResponse } from '@berth/engine';
import { describe, expect, it } from 'vitest';
import { cpuPercent, memoryUsage, statsRow } from './stats.js';

function sample(over: {
  cpu: number;
  system: number;
  usage: number;
  inactive?: number;
}): ContainerStatsResponse {
  return {
    name: '/web',
    id: 'f'.repeat(64),
    read: '2026-01-01T00:00:00Z',
    pids_stats: { current: 4 },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 8, minor: 0, op: 'Read', value: 2_000_000 },
        { major: 8, minor: 0, op: 'Write', value: 1500 },
        { major: 8, minor: 0, op: 'Total', value: 2_001_500 },
      ],
    },
    cpu_stats: {
      cpu_usage: { total_usage: over.cpu, usage_in_kernelmode: 0, usage_in_usermode: 0 },
      system_cpu_usage: over.system,
      online_cpus: 2,
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    },
    memory_stats: {
      usage: over.usage,
      limit: 64 * 1024 * 1024,
      stats: over.inactive === undefined ? {} : { total_inactive_file: over.inactive },
    },
    networks: {
      eth0: {
        rx_bytes: 1234,
        rx_packets: 1,
        rx_errors: 0,
        rx_dropped: 0,
        tx_bytes: 648,
        tx_packets: 1,
        tx_errors: 0,
        tx_dropped: 0,
      },
    },
  };
}

describe('stats rows (docker/cli formatter_stats)', () => {
  it('computes CPU % from two samples, scaled by online CPUs', () => {
    const prev = sample({ cpu: 1e9, system: 100e9, usage: 0 });
    const cur = sample({ cpu: 1.5e9, system: 102e9, usage: 0 });
    expect(cpuPercent(prev, cur)).toBeCloseTo(50);
    expect(cpuPercent(cur, cur)).toBe(0);
  });

  it('subtracts inactive file pages from memory usage', () => {
    expect(memoryUsage(sample({ cpu: 0, system: 0, usage: 10_000, inactive: 4000 }))).toBe(6000);
    expect(memoryUsage(sample({ cpu: 0, system: 0, usage: 10_000, inactive: 20_000 }))).toBe(10_000);
  });

  it("prints docker's units", () => {
    const prev = sample({ cpu: 0, system: 0, usage: 0 });
    const cur = sample({ cpu: 2e8, system: 4e9, usage: 16 * 1024 * 1024, inactive: 0 });
    expect(statsRow('web', prev, cur, { noTrunc: false })).toEqual({
      BlockIO: '2MB / 1.5kB',
      CPUPerc: '10.00%',
      Container: 'web',
      ID: 'ffffffffffff',
      MemPerc: '25.00%',
      MemUsage: '16MiB / 64MiB',
      Name: 'web',
      NetIO: '1.23kB / 648B',
      PIDs: '4',
    });
  });
});
