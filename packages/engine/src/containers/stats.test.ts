import { describe, expect, it } from 'vitest';
import { parseProcStat, statsResponse } from './stats.js';

describe('stats', () => {
  it('reads the host CPU time and online CPUs from /proc/stat as moby does', () => {
    const text =
      'cpu  100 5 50 1000 20 1 2 7 0 0\ncpu0 50 2 25 500 10 0 1 3 0 0\ncpu1 50 3 25 500 10 1 1 4 0 0\nintr 1\n';
    // user..softirq (7 fields), in USER_HZ ticks, as nanoseconds
    expect(parseProcStat(text)).toEqual({ systemNs: 1178 * 1e7, onlineCpus: 2 });
  });

  it("reports an unlimited container's memory limit as the host's, and keeps networks", () => {
    const host = { systemNs: 1, onlineCpus: 2, memTotal: 8 * 2 ** 30, read: '2026-01-01T00:00:00.000Z' };
    const s = statsResponse(
      'abc',
      '/web',
      {
        memory: { usage: 4096, stat: { total_inactive_file: 1024 } },
        pids: { current: 3, limit: 50 },
        networks: {
          eth0: {
            rx_bytes: 10,
            rx_packets: 1,
            rx_errors: 0,
            rx_dropped: 0,
            tx_bytes: 20,
            tx_packets: 2,
            tx_errors: 0,
            tx_dropped: 0,
          },
        },
      },
      host,
    );
    expect(s.memory_stats).toEqual({ usage: 4096, stats: { total_inactive_file: 1024 }, limit: 8 * 2 ** 30 });
    expect(s.pids_stats).toEqual({ current: 3, limit: 50 });
    expect(s.networks?.eth0?.tx_bytes).toBe(20);
    expect(s.cpu_stats.online_cpus).toBe(2);
    const limited = statsResponse('abc', '/web', { memory: { usage: 1, limit: 64 << 20, stat: {} } }, host);
    expect(limited.memory_stats.limit).toBe(64 << 20);
  });
});
