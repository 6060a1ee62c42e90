import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBerthError, type Spec } from '@berth/oci';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../runtime.js';
import { buildSpec } from '../spec.js';
import { dockerLikeSpec, writeBundle } from '../testing/busybox-bundle.js';
import { cgroupSuite } from '../testing/cgroup-suite.js';
import { buildShim } from '../testing/shim-build.js';
import { withAllowedDevices } from './allowed-devices.js';
import { dockerResources } from './docker.js';
import { createCgroupDriver } from './driver.js';
import { detectCgroupHost } from './mountinfo.js';
import { removeCgroupDir } from './remove.js';
import type { CgroupDriver, DeviceProgramLoader } from './types.js';
import { addonDeviceProgramLoader, shimDeviceProgramLoader } from './v2/device-loader.js';
import { createCgroupV2Driver } from './v2/driver.js';

const MiB = 1024 * 1024;
const host = detectCgroupHost(readFileSync('/proc/self/mountinfo', 'utf8'));
let seq = 0;

cgroupSuite(
  `v${host.version} driver on this host's /sys/fs/cgroup`,
  async () => ({
    driver: await createCgroupDriver(),
    newPath: () => `/berth/berth-t${process.pid}-suite-${seq++}`,
  }),
  { kernel: true },
);

// The real v2 driver: this hybrid host attaches no v1-held controller to cgroup2 (only hugetlb
// is offered there), so a private cgroup2 mount proves what v2 does without controllers:
// mkdir, placement, cgroup.freeze/cgroup.events, cgroup.kill, cpu.stat, removal. The
// controller files (memory.max, cpu.weight, ...) are proven on the fixture tree (unit).
let v2Mount: string | undefined;
function v2Root(): string {
  if (!v2Mount) {
    v2Mount = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-cg2-`));
    execFileSync('mount', ['-t', 'cgroup2', 'none', v2Mount]);
    mkdirSync(join(v2Mount, `berth-t${process.pid}-v2`));
  }
  return join(v2Mount, `berth-t${process.pid}-v2`);
}
afterAll(async () => {
  if (!v2Mount) return;
  await removeCgroupDir(join(v2Mount, `berth-t${process.pid}-v2`));
  execFileSync('umount', [v2Mount]);
  rmSync(v2Mount, { recursive: true, force: true });
});
if (host.version === 1)
  cgroupSuite(
    'v2 driver on a private cgroup2 mount (no controllers attached here)',
    async () => ({
      driver: createCgroupV2Driver({ root: v2Root() }),
      newPath: () => `/berth/berth-t${process.pid}-v2-${seq++}`,
    }),
    { kernel: true, controllers: [] },
  );

// cgroup v2 device control is an eBPF program, and a BPF program attaches to any v2 cgroup
// whatever controllers it has: proven here on the private cgroup2 mount (hybrid host) or the
// host's (pure v2), while the process stays in its v1 devices cgroup (allow-all).
// the default loader (the berth-sys addon, in this process) and berth-shim --device-filter
const loaders: [string, () => DeviceProgramLoader][] = [
  ['addon', () => addonDeviceProgramLoader()],
  ['berth-shim', () => shimDeviceProgramLoader({ shim: buildShim() })],
];
describe.each(loaders)('cgroup v2 device program (eBPF, real kernel), %s loader', (name, loader) => {
  it('denies what the rules do not allow; a new rule set replaces the old one', async () => {
    const drv = createCgroupV2Driver({ root: v2Root(), loadDeviceProgram: loader() });
    const path = `/berth/berth-t${process.pid}-devices-${name}`;
    const dir = join(v2Root(), path);
    const probe = () =>
      spawnSync(
        'sh',
        [
          '-c',
          `echo $$ > ${dir}/cgroup.procs && cat /dev/null && echo null-ok; [ "$(head -c1 /dev/zero | wc -c)" = 1 ] && echo zero-ok`,
        ],
        { encoding: 'utf8' },
      );
    try {
      const report = await drv.create(path, {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        ],
      });
      expect(report.warnings).toEqual([]);
      let r = probe();
      expect(r.stdout).toBe('null-ok\n');
      expect(r.stderr).toMatch(/\/dev\/zero.*Operation not permitted/);
      // allow-all: were the old program left attached, both would have to allow /dev/zero
      await drv.update(path, { devices: [{ allow: true, access: 'rwm' }] });
      r = probe();
      expect(r.stdout).toBe('null-ok\nzero-ok\n');
      await drv.update(path, {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },
        ],
      });
      r = probe();
      expect(r.stdout).toBe('zero-ok\n');
      expect(r.stderr).toMatch(/\/dev\/null.*Operation not permitted/);
    } finally {
      await drv.destroy(path, { force: true });
    }
  });

  it('a cgroup path that is not a cgroup fails naming it', async () => {
    const err = await loader()('/tmp', new Uint8Array(16)).catch((e: unknown) => e);
    expect(isBerthError(err, 'CGROUP_WRITE_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/^cgroup \/tmp: device program: devices: /);
  });
});

/** The directory of a cgroup path in one v1 hierarchy of this host. */
function v1Dir(controller: string, path: string): string {
  if (host.version !== 1) throw new Error('v1 host expected');
  const h = host.hierarchies.find((x) => x.controllers.includes(controller));
  if (!h) throw new Error(`no ${controller} hierarchy`);
  return join(h.mountpoint, path);
}

describe('cgroups through createRuntime (real kernel)', () => {
  let shim: string;
  let tmp: string;
  let rt: Runtime;
  let cg: CgroupDriver;
  let n = 0;
  const ids: string[] = [];

  beforeAll(async () => {
    shim = buildShim();
    cg = await createCgroupDriver();
  });
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
    rt = createRuntime({ root: join(tmp, 'state'), shim, cgroups: cg });
  });
  afterEach(async () => {
    for (const id of ids.splice(0)) await rt.delete(id, { force: true }).catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A bundle with `resources`; the cgroup namespace is the host's, docker's default on v1. */
  function bundle(
    args: string[],
    resources: NonNullable<Spec['linux']>['resources'],
    patch?: (s: Spec) => void,
  ) {
    return writeBundle(
      join(tmp, `bundle${n++}`),
      dockerLikeSpec(args, (s) => {
        s.linux!.resources = resources;
        if (host.version === 1)
          s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'cgroup');
        patch?.(s);
      }),
    );
  }

  function newId(): string {
    const id = `berth-t${process.pid}-${n++}`;
    ids.push(id);
    return id;
  }

  function output(logPath: string): string {
    return readFileSync(logPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { log: string }).log)
      .join('');
  }

  async function run(args: string[], resources: NonNullable<Spec['linux']>['resources']) {
    const id = newId();
    await rt.create(id, bundle(args, resources));
    await rt.start(id);
    const exit = await rt.wait(id);
    const st = await rt.state(id);
    return { id, exit, state: st, out: output(st.logPath!) };
  }

  it('places the container in /berth/<id> before it runs; --memory is visible inside', async () => {
    const { id, exit, out } = await run(
      ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /proc/self/cgroup'],
      dockerResources({ memory: 64 * MiB }),
    );
    expect(exit).toMatchObject({ exitCode: 0, oomKilled: false });
    const [limit, ...cgroups] = out.trim().split('\n');
    expect(limit).toBe(String(64 * MiB));
    // every hierarchy, name=systemd and the hybrid unified line included
    for (const line of cgroups) expect(line).toMatch(new RegExp(`:/berth/${id}$`));
    expect(cgroups.some((l) => l.includes(':name=systemd:'))).toBe(true);
  });

  it('OOM-kills a memory hog: exit 137 and oomKilled', async () => {
    // the shell keeps the command substitution's output in its own memory
    const { exit, state } = await run(
      ['sh', '-c', 'x=$(head -c 300000000 /dev/zero | tr "\\0" x); echo survived'],
      dockerResources({ memory: 32 * MiB }),
    );
    expect(exit.exitCode).toBe(137);
    expect(exit.signal).toBe(9);
    expect(exit.oomKilled).toBe(true);
    expect(state.exit?.oomKilled).toBe(true);
  });

  it('--pids-limit 20 stops a fork bomb: forks fail, the container survives', async () => {
    const script = [
      '(i=0; while [ $i -lt 100 ]; do sleep 300 & i=$((i+1)); done) 2>/tmp/err',
      'read cur < /sys/fs/cgroup/pids/pids.current',
      'echo current=$cur',
      'read ev < /sys/fs/cgroup/pids/pids.events',
      'echo events=$ev',
      'while read l; do echo "err: $l"; break; done < /tmp/err',
      'echo alive',
    ].join('; ');
    const { exit, out } = await run(['sh', '-c', script], dockerResources({ pidsLimit: 20 }));
    expect(exit.exitCode).toBe(0);
    // the subshell died at its first failed fork: the shell and its sleeps remain, within 20
    const current = Number(/current=(\d+)/.exec(out)?.[1]);
    expect(current).toBeGreaterThan(10);
    expect(current).toBeLessThanOrEqual(20);
    expect(out).toMatch(/events=max [1-9]/);
    expect(out).toMatch(/err: .*can't fork/);
    expect(out).toContain('alive\n');
  });

  it('--cpus 0.5 writes quota 50000 per 100000 µs period', async () => {
    const id = newId();
    await rt.create(id, bundle(['sleep', '300'], dockerResources({ cpus: 0.5, cpuShares: 512 })));
    const path = (await rt.state(id)).cgroupPath!;
    if (host.version === 1) {
      const d = v1Dir('cpu', path);
      expect(readFileSync(join(d, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
      expect(readFileSync(join(d, 'cpu.cfs_period_us'), 'utf8').trim()).toBe('100000');
      expect(readFileSync(join(d, 'cpu.shares'), 'utf8').trim()).toBe('512');
    } else {
      expect(readFileSync(join(host.root, path, 'cpu.max'), 'utf8').trim()).toBe('50000 100000');
    }
  });

  it('applies the device allow-list: /dev/null is usable, a block device node is not', async () => {
    const devices = [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
      { allow: true, type: 'b', access: 'm' },
    ];
    const { exit, out, id } = await run(
      [
        'sh',
        '-c',
        'echo x > /dev/null && echo null-ok; mknod /tmp/vda b 253 0 && echo mknod-ok; head -c1 /tmp/vda || echo read-denied',
      ],
      { devices },
    );
    expect(exit.exitCode).toBe(0);
    expect(out).toContain('null-ok\n');
    expect(out).toContain('mknod-ok\n');
    expect(out).toContain('read-denied\n');
    expect(out).toMatch(/Operation not permitted/);
    if (host.version === 1) {
      // devices.list is gone with the container; check a fresh one through the driver
      const path = `/berth/${id}-devices`;
      await cg.create(path, { devices });
      expect(
        readFileSync(join(v1Dir('devices', path), 'devices.list'), 'utf8')
          .trim()
          .split('\n')
          .sort(),
      ).toEqual(
        ['c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'b *:* m'].sort(),
      );
      await cg.destroy(path);
    }
  });

  it('pause freezes every process (wchan __refrigerator, counter stops); resume lets it run', async () => {
    const id = newId();
    await rt.create(
      id,
      bundle(['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; done'], {}),
    );
    await rt.start(id);
    const st = await rt.state(id);
    const counter = join(st.bundle, 'rootfs/tmp/counter');
    const read = async () => Number((await readFile(counter, 'utf8').catch(() => '0')).trim() || 0);
    for (let i = 0; i < 2000 && (await read()) < 10; i++) await sleep(5);
    await rt.pause(id);
    expect((await rt.state(id)).status).toBe('paused');
    if (host.version === 1)
      expect(readFileSync(join(v1Dir('freezer', st.cgroupPath!), 'freezer.state'), 'utf8').trim()).toBe(
        'FROZEN',
      );
    const pids = await cg.pids(st.cgroupPath!);
    expect(pids).toContain(st.pid);
    // a running task that is frozen sits in the refrigerator
    for (const pid of pids) expect(await readFile(`/proc/${pid}/wchan`, 'utf8')).toBe('__refrigerator');
    // frozen: the value cannot move (the loop is stopped, not slowed)
    const frozenAt = await read();
    await sleep(50);
    expect(await read()).toBe(frozenAt);
    await rt.resume(id);
    expect((await rt.state(id)).status).toBe('running');
    // (an empty read is the loop caught between truncate and write; it reads as 0)
    let after = frozenAt;
    for (let i = 0; i < 2000 && after <= frozenAt; i++) {
      await sleep(5);
      after = await read();
    }
    expect(after).toBeGreaterThan(frozenAt);
  });

  it('reports stats of a running container', async () => {
    const id = newId();
    await rt.create(
      id,
      bundle(
        ['sh', '-c', 'sleep 300 & sleep 300 & wait'],
        dockerResources({ memory: 64 * MiB, pidsLimit: 50 }),
      ),
    );
    await rt.start(id);
    let s = await rt.stats(id);
    for (let i = 0; i < 2000 && (s.pids?.current ?? 0) < 3; i++) {
      await sleep(5);
      s = await rt.stats(id);
    }
    expect(s.pids).toEqual({ current: 3, limit: 50 });
    expect(s.memory?.limit).toBe(64 * MiB);
    expect(s.memory?.usage).toBeGreaterThan(0);
    expect(s.cpu?.totalUsageNs).toBeGreaterThan(0);
    if (host.version === 1) expect(s.cpu?.perCpuNs?.length).toBeGreaterThan(0);
    expect(Array.isArray(s.blkio?.ioServiceBytes)).toBe(true);
  });

  it('removes the cgroup in every hierarchy with the container, force-deleting a paused one', async () => {
    const id = newId();
    await rt.create(id, bundle(['sh', '-c', 'sleep 300 & sleep 300'], dockerResources({ memory: 64 * MiB })));
    await rt.start(id);
    const path = (await rt.state(id)).cgroupPath!;
    expect(path).toBe(`/berth/${id}`);
    const dirs =
      host.version === 1
        ? [
            ...host.hierarchies.map((h) => join(h.mountpoint, path)),
            ...(host.unified ? [join(host.unified, path)] : []),
          ]
        : [join(host.root, path)];
    for (const d of dirs) expect(existsSync(d)).toBe(true);
    await rt.pause(id);
    await rt.delete(id, { force: true });
    for (const d of dirs) expect(existsSync(d)).toBe(false);
  });

  it('removes the cgroup when the launch fails', async () => {
    const id = newId();
    await expect(
      rt.create(id, bundle(['/nonexistent'], dockerResources({ memory: 64 * MiB }))),
    ).rejects.toThrow();
    await expect(
      rt.create(id, bundle(['true'], dockerResources({ memory: 64 * MiB }))),
    ).resolves.toBeDefined();
    const path = (await rt.state(id)).cgroupPath!;
    await rt.delete(id, { force: true });
    expect(await cg.exists(path)).toBe(false);
  });
});

// What a docker container's cgroup holds on v1, read back from the kernel: the device list
// (docker's rules, then runc's allowed devices, one write per rule) and the cpuset the
// container can join (copied from /berth; after the first container the kernel copies it).
if (host.version === 1)
  describe('a docker container cgroup as the kernel holds it (v1)', () => {
    it('devices.list is the allow-list of buildSpec plus runc allowed devices', async () => {
      const spec = buildSpec(undefined, { cmd: ['true'], rootfs: '/' });
      const path = `/berth/berth-t${process.pid}-docker-devices`;
      const cg = await createCgroupDriver();
      await cg.create(path, withAllowedDevices(spec.linux!.resources));
      try {
        const list = readFileSync(join(v1Dir('devices', path), 'devices.list'), 'utf8');
        expect(list.trim().split('\n').sort()).toEqual(
          [
            'c 1:5 rwm',
            'c 1:3 rwm',
            'c 1:9 rwm',
            'c 1:8 rwm',
            'c 5:0 rwm',
            'c 5:1 rwm',
            'c *:* m',
            'b *:* m',
            'c 1:7 rwm',
            'c 136:* rwm',
            'c 5:2 rwm',
            'c 10:200 rwm',
          ].sort(),
        );
      } finally {
        await cg.destroy(path);
      }
    });

    it("cpuset.cpus and cpuset.mems are /berth's in each new cgroup", async () => {
      const cg = await createCgroupDriver();
      const paths = [0, 1, 2].map((i) => `/berth/berth-t${process.pid}-cpuset-${i}`);
      const parent = v1Dir('cpuset', '/berth');
      try {
        for (const p of paths) {
          await cg.create(p, {});
          for (const f of ['cpuset.cpus', 'cpuset.mems']) {
            const value = readFileSync(join(v1Dir('cpuset', p), f), 'utf8');
            expect(value.trim()).not.toBe('');
            expect(value).toBe(readFileSync(join(parent, f), 'utf8'));
          }
        }
        expect(readFileSync(join(parent, 'cgroup.clone_children'), 'utf8').trim()).toBe('1');
        // a task left in one of them: its one-job rmdirs fail (EBUSY), the busy way kills it
        const busy = spawn('sleep', ['1000'], { stdio: 'ignore' });
        await cg.addProcess(paths[0]!, busy.pid!);
        const gone = new Promise((r) => busy.once('exit', r));
        // removed as `rm -f` of many does: every hierarchy's rmdir on the thread pool at once
        await Promise.all(paths.map((p) => cg.destroy(p, { concurrent: true, force: true })));
        for (const p of paths) expect(existsSync(v1Dir('cpuset', p))).toBe(false);
        for (const p of paths) expect(existsSync(v1Dir('memory', p))).toBe(false);
        expect(await gone).toBe(null);
      } finally {
        for (const p of paths) await cg.destroy(p);
      }
    });
  });
