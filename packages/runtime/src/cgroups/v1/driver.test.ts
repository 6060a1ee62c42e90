import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeV1Fixture } from '../../testing/cgroup-fixture.js';
import { parseIoServiceBytes } from './blkio.js';
import { deviceRuleLine } from './devices.js';
import { createCgroupV1Driver } from './driver.js';

const MiB = 1024 * 1024;
const P = '/berth/c1';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup(omit: string[] = []) {
  const fx = makeV1Fixture(dir, { omit });
  fx.populate(P);
  return { fx, cg: createCgroupV1Driver({ hierarchies: fx.hierarchies, unified: fx.unified }) };
}

describe('v1 driver: what it writes', () => {
  it('memory: limit, memsw (limit first from unlimited), soft limit, swappiness, oom_control', async () => {
    const { fx, cg } = setup();
    const { warnings } = await cg.create(P, {
      memory: {
        limit: 64 * MiB,
        swap: 128 * MiB,
        reservation: 32 * MiB,
        swappiness: 10,
        disableOOMKiller: true,
      },
    });
    expect(warnings).toEqual([]);
    expect(fx.read(P, 'memory.limit_in_bytes')).toBe(String(64 * MiB));
    expect(fx.read(P, 'memory.memsw.limit_in_bytes')).toBe(String(128 * MiB));
    expect(fx.read(P, 'memory.soft_limit_in_bytes')).toBe(String(32 * MiB));
    expect(fx.read(P, 'memory.swappiness')).toBe('10');
    expect(fx.read(P, 'memory.oom_control')).toBe('1');
  });

  it('memory: without memsw the swap limit is reported, the memory limit still set', async () => {
    const { fx, cg } = setup(['memory.memsw.limit_in_bytes']);
    const { warnings } = await cg.create(P, { memory: { limit: 64 * MiB, swap: 128 * MiB } });
    expect(warnings.map((w) => w.code)).toEqual(['SWAP_LIMIT_UNSUPPORTED']);
    expect(warnings[0]!.field).toBe('linux.resources.memory.swap');
    expect(fx.read(P, 'memory.limit_in_bytes')).toBe(String(64 * MiB));
  });

  it('cpu: shares, period before quota, -1 quota; cpus/mems in cpuset', async () => {
    const { fx, cg } = setup();
    await cg.create(P, { cpu: { shares: 512, quota: 50000, period: 100000, cpus: '1', mems: '0' } });
    expect(fx.read(P, 'cpu.shares', 'cpu')).toBe('512');
    expect(fx.read(P, 'cpu.cfs_quota_us', 'cpu')).toBe('50000');
    expect(fx.read(P, 'cpu.cfs_period_us', 'cpu')).toBe('100000');
    expect(fx.read(P, 'cpuset.cpus', 'cpuset')).toBe('1');
    await cg.update(P, { cpu: { quota: -1 } });
    expect(fx.read(P, 'cpu.cfs_quota_us', 'cpu')).toBe('-1');
  });

  it('cpu: refuses a period outside 1000..1000000 naming the field', async () => {
    const { cg } = setup();
    const err = await cg.create(P, { cpu: { period: 10 } }).catch((e: unknown) => e);
    expect(isBerthError(err, 'CGROUP_RESOURCE_INVALID')).toBe(true);
    expect((err as { input?: unknown }).input).toEqual({ field: 'linux.resources.cpu.period' });
  });

  it('cpuset: copies the parent values into new intermediate cgroups', async () => {
    const { fx, cg } = setup();
    await cg.create(P, {});
    expect(fx.read('/berth', 'cpuset.cpus', 'cpuset')).toBe('0-1');
    expect(fx.read('/berth', 'cpuset.mems', 'cpuset')).toBe('0');
    expect(fx.read(P, 'cpuset.cpus', 'cpuset')).toBe('0-1');
    expect(fx.read(P, 'cpuset.mems', 'cpuset')).toBe('0');
    // the kernel fills the next container's cgroup from /berth itself
    expect(fx.read('/berth', 'cgroup.clone_children', 'cpuset')).toBe('1');
  });

  it('cpuset: a cgroup the kernel filled at mkdir is left as it is', async () => {
    const { fx, cg } = setup();
    fx.write(P, 'cpuset.cpus', '1\n', 'cpuset');
    fx.write(P, 'cpuset.mems', '0\n', 'cpuset');
    await cg.create(P, {});
    expect(fx.read(P, 'cpuset.cpus', 'cpuset')).toBe('1\n');
    expect(fx.read('/berth', 'cgroup.clone_children', 'cpuset')).toBe('0\n');
  });

  it('cpuset: a parent other than /berth does not get clone_children', async () => {
    const fx = makeV1Fixture(dir);
    fx.populate('/custom/c2');
    const cg = createCgroupV1Driver({ hierarchies: fx.hierarchies, unified: fx.unified });
    await cg.create('/custom/c2', {});
    expect(fx.read('/custom/c2', 'cpuset.cpus', 'cpuset')).toBe('0-1');
    expect(fx.read('/custom', 'cgroup.clone_children', 'cpuset')).toBe('0\n');
  });

  it('pids: a count, max for negative, untouched for 0', async () => {
    const { fx, cg } = setup();
    await cg.create(P, { pids: { limit: 20 } });
    expect(fx.read(P, 'pids.max', 'pids')).toBe('20');
    await cg.update(P, { pids: { limit: 0 } });
    expect(fx.read(P, 'pids.max', 'pids')).toBe('20');
    await cg.update(P, { pids: { limit: -1 } });
    expect(fx.read(P, 'pids.max', 'pids')).toBe('max');
  });

  it('blkio: the weight goes to blkio.bfq.weight when there is no blkio.weight', async () => {
    const { fx, cg } = setup();
    const { warnings } = await cg.create(P, {
      blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
    });
    expect(warnings).toEqual([]);
    expect(fx.read(P, 'blkio.bfq.weight', 'blkio')).toBe('300');
    expect(fx.read(P, 'blkio.throttle.read_bps_device', 'blkio')).toBe('8:0 1048576');
  });

  it('blkio: without any weight file the weight is discarded with a warning', async () => {
    const { cg } = setup(['blkio.bfq.weight']);
    const { warnings } = await cg.create(P, { blockIO: { weight: 300 } });
    expect(warnings.map((w) => w.code)).toEqual(['BLKIO_WEIGHT_UNSUPPORTED']);
  });

  it('devices: rules become kernel lines; type a alone clears the list', () => {
    expect(deviceRuleLine({ allow: false, access: 'rwm' }, 0)).toBe('a');
    expect(deviceRuleLine({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, 1)).toBe(
      'c 1:3 rwm',
    );
    expect(deviceRuleLine({ allow: true, type: 'b', access: 'm' }, 2)).toBe('b *:* m');
    expect(deviceRuleLine({ allow: true, type: 'c', major: 136, access: 'rw' }, 3)).toBe('c 136:* rw');
    for (const bad of [
      { type: 'x' },
      { type: 'c', access: 'rwx' },
      { type: 'c', access: 'rr' },
      { type: 'c', major: -5 },
    ])
      expect(
        isBerthError(
          (() => {
            try {
              deviceRuleLine({ allow: true, ...bad }, 7);
            } catch (e) {
              return e;
            }
          })(),
          'CGROUP_RESOURCE_INVALID',
        ),
      ).toBe(true);
  });

  it('devices: each rule is one line written to its file, in the spec order', async () => {
    const { fx, cg } = setup();
    await cg.create(P, {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
        { allow: true, type: 'b', access: 'm' },
      ],
    });
    // a plain file keeps every write (the kernel parses each write as one rule)
    expect(fx.read(P, 'devices.allow', 'devices')).toBe('c 1:3 rwm\nb *:* m\n');
    expect(fx.read(P, 'devices.deny', 'devices')).toBe('a\nc 10:229 rwm\n');
  });

  it('refuses linux.resources.unified on v1 and a controller that is not mounted', async () => {
    const { cg } = setup();
    expect(
      isBerthError(
        await cg.create(P, { unified: { 'memory.high': '1' } }).catch((e: unknown) => e),
        'CGROUP_RESOURCE_INVALID',
      ),
    ).toBe(true);
    const fx2 = makeV1Fixture(join(dir, 'two'));
    const noMem = createCgroupV1Driver({
      hierarchies: fx2.hierarchies.filter((h) => !h.controllers.includes('memory')),
    });
    fx2.populate(P);
    expect(
      isBerthError(
        await noMem.create(P, { memory: { limit: 64 * MiB } }).catch((e: unknown) => e),
        'CGROUP_UNSUPPORTED',
      ),
    ).toBe(true);
  });

  it('places a pid in every hierarchy, name=systemd and the unified mount included', async () => {
    const { fx, cg } = setup();
    await cg.create(P, {});
    await cg.addProcess(P, 4242);
    for (const h of fx.hierarchies) expect(fx.read(P, 'cgroup.procs', h.controllers[0])).toBe('4242');
    expect(await cg.pids(P)).toEqual([4242]);
    await expect(cg.addProcess(P, 0)).rejects.toThrow();
  });

  it('reads stats and OOM counters in docker units', async () => {
    const { fx, cg } = setup();
    await cg.create(P, { memory: { limit: 64 * MiB } });
    fx.write(P, 'memory.usage_in_bytes', '1048576\n');
    fx.write(P, 'memory.max_usage_in_bytes', '2097152\n');
    fx.write(P, 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    fx.write(P, 'cpuacct.usage', '5000\n', 'cpuacct');
    fx.write(P, 'cpuacct.usage_percpu', '3000 2000 \n', 'cpuacct');
    fx.write(P, 'cpuacct.stat', 'user 3\nsystem 1\n', 'cpuacct');
    fx.write(P, 'pids.current', '7\n', 'pids');
    fx.write(
      P,
      'blkio.throttle.io_service_bytes_recursive',
      '253:0 Read 4096\n253:0 Write 512\nTotal 4608\n',
      'blkio',
    );
    const s = await cg.stats(P);
    expect(s.memory).toMatchObject({ usage: MiB, limit: 64 * MiB, maxUsage: 2 * MiB, failcnt: 0 });
    expect(s.cpu).toMatchObject({ totalUsageNs: 5000, perCpuNs: [3000, 2000], userNs: 3e7, systemNs: 1e7 });
    expect(s.pids).toEqual({ current: 7 });
    expect(s.blkio?.ioServiceBytes).toEqual([
      { major: 253, minor: 0, op: 'Read', value: 4096 },
      { major: 253, minor: 0, op: 'Write', value: 512 },
    ]);
    expect(await cg.oomEvents(P)).toEqual({ oomKill: 2, oom: 0 });
  });

  it('parses io_service_bytes and drops the Total line', () => {
    expect(parseIoServiceBytes('8:0 Read 1\n8:0 Sync 2\nTotal 3\n')).toEqual([
      { major: 8, minor: 0, op: 'Read', value: 1 },
      { major: 8, minor: 0, op: 'Sync', value: 2 },
    ]);
  });

  it('rolls back the directories it created when an apply fails', async () => {
    const fx = makeV1Fixture(dir);
    const cg = createCgroupV1Driver({ hierarchies: fx.hierarchies });
    // no populate: mkdir makes empty dirs, the first write finds no control file
    const err = await cg.create('/fresh/c', { pids: { limit: 5 } }).catch((e: unknown) => e);
    expect(isBerthError(err)).toBe(true);
    for (const h of fx.hierarchies) expect(existsSync(join(h.mountpoint, 'fresh'))).toBe(false);
  });
});
