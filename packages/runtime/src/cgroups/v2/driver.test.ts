import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CgroupFixture, makeV2Fixture } from '../../testing/cgroup-fixture.js';
import { cpuMax, sharesToWeight } from './cpu.js';
import { createCgroupV2Driver } from './driver.js';
import { blkioWeightToIoWeight, parseIoStat } from './io.js';
import { swapOnly } from './memory.js';

const MiB = 1024 * 1024;
const P = '/berth/c1';
let dir: string;
let fx: CgroupFixture | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
});
afterEach(() => {
  fx?.close();
  rmSync(dir, { recursive: true, force: true });
});

function setup(omit: string[] = []) {
  fx = makeV2Fixture(dir, { omit });
  fx.populate(P);
  return { fx, cg: createCgroupV2Driver({ root: dir }) };
}

const fail = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('v2 conversions (runc/crun formulas)', () => {
  it('cpu.weight from shares: 2 → 1, 1024 → 39, 262144 → 10000, 0 unset', () => {
    expect(sharesToWeight(0)).toBe(0);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(512)).toBe(20);
    expect(sharesToWeight(262144)).toBe(10000);
  });

  it('cpu.max from quota and period', () => {
    expect(cpuMax(50000, 100000)).toBe('50000 100000');
    expect(cpuMax(-1, 100000)).toBe('max 100000');
    expect(cpuMax(50000, undefined)).toBe('50000');
    expect(cpuMax(undefined, undefined)).toBeUndefined();
  });

  it('memory.swap.max is memory+swap minus memory', () => {
    expect(swapOnly(128 * MiB, 64 * MiB)).toBe(64 * MiB);
    expect(swapOnly(64 * MiB, 64 * MiB)).toBe(0);
    expect(swapOnly(-1, 64 * MiB)).toBe(-1);
    expect(swapOnly(0, -1)).toBe(-1);
    expect(swapOnly(0, 64 * MiB)).toBe(0);
    for (const [s, m] of [
      [32 * MiB, 64 * MiB],
      [128 * MiB, 0],
      [128 * MiB, -1],
    ] as const)
      expect(
        isBerthError(
          (() => {
            try {
              swapOnly(s, m);
            } catch (e) {
              return e;
            }
          })(),
          'CGROUP_RESOURCE_INVALID',
        ),
      ).toBe(true);
  });

  it('io.weight from blkio weight: 10 → 1, 1000 → 10000, 500 → 4950', () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
  });

  it('parses io.stat into docker entries', () => {
    expect(parseIoStat('8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n')).toEqual([
      { major: 8, minor: 0, op: 'Read', value: 10 },
      { major: 8, minor: 0, op: 'Write', value: 20 },
      { major: 8, minor: 0, op: 'Discard', value: 0 },
    ]);
  });
});

describe('v2 driver: what it writes', () => {
  it('enables the offered controllers in every ancestor subtree_control', async () => {
    const { fx, cg } = setup();
    await cg.create(P, {});
    expect(fx.read('/', 'cgroup.subtree_control')).toBe('+cpuset +cpu +io +memory +pids');
    expect(fx.read('/berth', 'cgroup.subtree_control')).toBe('+cpuset +cpu +io +memory +pids');
    expect(fx.read(P, 'cgroup.subtree_control')).toBe('\n');
  });

  it('writes only the controllers an ancestor has not enabled yet', async () => {
    const { fx, cg } = setup();
    // as the kernel shows the file: names without '+'
    fx.write('/', 'cgroup.subtree_control', 'cpuset cpu io memory pids\n');
    fx.write('/berth', 'cgroup.subtree_control', 'cpuset cpu memory\n');
    await cg.create(P, {});
    expect(fx.read('/', 'cgroup.subtree_control')).toBe('cpuset cpu io memory pids\n');
    expect(fx.read('/berth', 'cgroup.subtree_control')).toBe('+io +pids');
  });

  it('memory: memory.max, memory.swap.max (swap only), memory.low', async () => {
    const { fx, cg } = setup();
    const { warnings } = await cg.create(P, {
      memory: { limit: 64 * MiB, swap: 96 * MiB, reservation: 16 * MiB },
    });
    expect(warnings).toEqual([]);
    expect(fx.read(P, 'memory.max')).toBe(String(64 * MiB));
    expect(fx.read(P, 'memory.swap.max')).toBe(String(32 * MiB));
    expect(fx.read(P, 'memory.low')).toBe(String(16 * MiB));
  });

  it('memory: v1-only settings are reported, not silently dropped', async () => {
    const { cg } = setup(['memory.swap.max']);
    const { warnings } = await cg.create(P, {
      memory: { limit: 64 * MiB, swap: 128 * MiB, disableOOMKiller: true, swappiness: 0 },
    });
    expect(warnings.map((w) => w.code).sort()).toEqual([
      'SETTING_IGNORED',
      'SETTING_IGNORED',
      'SWAP_LIMIT_UNSUPPORTED',
    ]);
  });

  it('cpu: weight, max; cpuset; pids', async () => {
    const { fx, cg } = setup();
    await cg.create(P, {
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 20 },
    });
    expect(fx.read(P, 'cpu.weight')).toBe('39');
    expect(fx.read(P, 'cpu.max')).toBe('50000 100000');
    expect(fx.read(P, 'cpuset.cpus')).toBe('0');
    expect(fx.read(P, 'pids.max')).toBe('20');
  });

  it('io: io.weight converted when there is no io.bfq.weight; throttles in io.max', async () => {
    const { fx, cg } = setup();
    await cg.create(P, {
      blockIO: { weight: 500, throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 4096 }] },
    });
    expect(fx.read(P, 'io.weight')).toBe('default 4950');
    expect(fx.read(P, 'io.max')).toBe('8:0 wbps=4096');
  });

  it('devices: without a device program loader (a fixture tree) the rules are reported as not enforced', async () => {
    const { cg } = setup();
    const { warnings } = await cg.create(P, { devices: [{ allow: false, access: 'rwm' }] });
    expect(warnings.map((w) => w.code)).toEqual(['DEVICES_NOT_ENFORCED']);
  });

  it('unified: writes controller files, refuses anything that walks or touches cgroup.*', async () => {
    const { fx, cg } = setup();
    fx.write(P, 'memory.high', 'max\n');
    await cg.create(P, { unified: { 'memory.high': '1048576' } });
    expect(fx.read(P, 'memory.high')).toBe('1048576');
    for (const key of ['../x.max', 'cgroup.procs', 'memory.high/../../x', 'nodot'])
      expect(
        isBerthError(await fail(cg.update(P, { unified: { [key]: '1' } })), 'CGROUP_RESOURCE_INVALID'),
      ).toBe(true);
  });

  it('refuses resources for a controller the cgroup does not have', async () => {
    fx = makeV2Fixture(dir);
    fx.populate(P);
    fx.write(P, 'cgroup.controllers', 'cpu pids\n');
    const cg = createCgroupV2Driver({ root: dir });
    expect(
      isBerthError(await fail(cg.create(P, { memory: { limit: 64 * MiB } })), 'CGROUP_UNSUPPORTED'),
    ).toBe(true);
  });

  it('freezes through cgroup.freeze and waits for cgroup.events', async () => {
    const { fx, cg } = setup();
    await cg.create(P, {});
    await cg.freeze(P);
    expect(fx.read(P, 'cgroup.freeze')).toBe('1');
    expect(fx.read(P, 'cgroup.events')).toContain('frozen 1');
    await cg.thaw(P);
    expect(await cg.freezerState(P)).toBe('thawed');
  });

  it('reads stats (µs → ns) and OOM kills from memory.events', async () => {
    const { fx, cg } = setup();
    await cg.create(P, { memory: { limit: 64 * MiB } });
    fx.write(P, 'memory.current', '4096\n');
    fx.write(P, 'memory.events', 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n');
    fx.write(
      P,
      'cpu.stat',
      'usage_usec 7\nuser_usec 5\nsystem_usec 2\nnr_periods 4\nnr_throttled 1\nthrottled_usec 3\n',
    );
    fx.write(P, 'pids.current', '2\n');
    const s = await cg.stats(P);
    expect(s.memory).toMatchObject({ usage: 4096, limit: 64 * MiB, maxUsage: 0 });
    expect(s.cpu).toEqual({
      totalUsageNs: 7000,
      userNs: 5000,
      systemNs: 2000,
      throttling: { periods: 4, throttledPeriods: 1, throttledTimeNs: 3000 },
    });
    expect(s.pids).toEqual({ current: 2 });
    expect(await cg.oomEvents(P)).toEqual({ oomKill: 1, oom: 1 });
  });
});
