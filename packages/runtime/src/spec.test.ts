import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { CAPABILITY_BITS } from './launch-spec.js';
import { boundingCapabilities, buildSpec, DEFAULT_CAPABILITIES } from './spec.js';

const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
const group = 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n';
const image = {
  Entrypoint: ['/entry'],
  Cmd: ['serve'],
  Env: ['PATH=/app/bin', 'A=1'],
  WorkingDir: '/app',
  User: 'app',
};

function capMask(caps: readonly string[]): string {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(CAPABILITY_BITS[c]!);
  return m.toString(16).padStart(16, '0');
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBerthError(err) ? err.code : 'NOT_BERTH';
  }
  return undefined;
}

describe('buildSpec: process', () => {
  it('docker default capabilities give CapEff 00000000a80425fb', () => {
    expect(capMask(DEFAULT_CAPABILITIES)).toBe('00000000a80425fb');
    const caps = buildSpec(image, { passwd, group }).process!.capabilities!;
    expect(capMask(caps.effective!)).toBe('00000000a80425fb');
    expect(caps.bounding).toEqual(caps.effective);
    expect(caps.permitted).toEqual(caps.effective);
    expect(caps.inheritable).toEqual([]);
    expect(caps.ambient).toEqual([]);
  });
  it('entrypoint + cmd; cmd override; entrypoint override drops the image cmd', () => {
    expect(buildSpec(image, { passwd }).process!.args).toEqual(['/entry', 'serve']);
    expect(buildSpec(image, { passwd, cmd: ['x', 'y'] }).process!.args).toEqual(['/entry', 'x', 'y']);
    expect(buildSpec(image, { passwd, entrypoint: ['/other'] }).process!.args).toEqual(['/other']);
    expect(buildSpec(image, { passwd, entrypoint: [], cmd: ['sh'] }).process!.args).toEqual(['sh']);
    expect(code(() => buildSpec({}, {}))).toBe('NO_COMMAND');
    expect(code(() => buildSpec(image, { passwd, entrypoint: [] }))).toBe('NO_COMMAND');
  });
  it('env: PATH and HOSTNAME first, image then user values by name, HOME from passwd', () => {
    const env = buildSpec(image, { passwd, group, hostname: 'abc123', env: ['A=2', 'B=3'] }).process!.env;
    expect(env).toEqual(['PATH=/app/bin', 'HOSTNAME=abc123', 'A=2', 'B=3', 'HOME=/home/app']);
    expect(buildSpec({ Cmd: ['sh'] }).process!.env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOSTNAME=',
      'HOME=/',
    ]);
    expect(code(() => buildSpec({ Cmd: ['sh'] }, { env: ['NOVALUE'] }))).toBe('INVALID_OPTION');
  });
  it('user from the image or -u, with supplementary groups', () => {
    expect(buildSpec(image, { passwd, group }).process!.user).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 2000],
    });
    expect(buildSpec(image, { passwd, group, user: '0:0' }).process!.user).toEqual({
      uid: 0,
      gid: 0,
      additionalGids: [0],
    });
    expect(code(() => buildSpec(image, { passwd, group, user: 'ghost' }))).toBe('USER_NOT_FOUND');
  });
  it('workdir: option, image, then /; must be absolute', () => {
    expect(buildSpec(image, { passwd }).process!.cwd).toBe('/app');
    expect(buildSpec(image, { passwd, workdir: '/w' }).process!.cwd).toBe('/w');
    expect(buildSpec({ Cmd: ['sh'] }).process!.cwd).toBe('/');
    expect(code(() => buildSpec(image, { passwd, workdir: 'rel' }))).toBe('INVALID_OPTION');
  });
  it('--cap-add, --cap-drop, ALL and --privileged', () => {
    const caps = (o: object) => buildSpec({ Cmd: ['sh'] }, o).process!.capabilities!.effective!;
    expect(caps({ capAdd: ['sys_admin'], capDrop: ['CAP_CHOWN', 'net_raw'] })).toEqual([
      ...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_NET_RAW'),
      'CAP_SYS_ADMIN',
    ]);
    expect(caps({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] })).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(caps({ capAdd: ['ALL'] })).toHaveLength(Object.keys(CAPABILITY_BITS).length);
    expect(caps({ privileged: true })).toHaveLength(Object.keys(CAPABILITY_BITS).length);
    expect(code(() => caps({ capAdd: ['CAP_FLY'] }))).toBe('INVALID_OPTION');
  });
  it('--privileged and --cap-add ALL grant only the engine bounding set (podman)', () => {
    const caps = (o: object) => buildSpec({ Cmd: ['sh'] }, o).process!.capabilities!;
    // this sandbox's bounding set: everything up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE (24)
    const status = 'Name:\tnode\nCapInh:\t0000000000000000\nCapBnd:\t000001fffeffffff\nSeccomp:\t0\n';
    const available = boundingCapabilities(status);
    expect(available).toHaveLength(40);
    expect(available).not.toContain('CAP_SYS_RESOURCE');
    expect(available).toContain('CAP_SYS_ADMIN');
    const privileged = caps({ privileged: true, availableCapabilities: available });
    expect(privileged.bounding).toEqual(available);
    expect(privileged.effective).not.toContain('CAP_SYS_RESOURCE');
    expect(caps({ capAdd: ['ALL'], capDrop: ['MKNOD'], availableCapabilities: available }).effective).toEqual(
      available.filter((c) => c !== 'CAP_MKNOD'),
    );
    // only privileged and ALL look at it: the default set stays docker's
    expect(caps({ availableCapabilities: ['CAP_CHOWN'] }).effective).toEqual([...DEFAULT_CAPABILITIES]);
    expect(code(() => boundingCapabilities('Name:\tnode\n'))).toBe('INVALID_OPTION');
  });
  it('--ulimit, --oom-score-adj, no-new-privileges', () => {
    const p = buildSpec(
      { Cmd: ['sh'] },
      { ulimits: { nofile: { soft: 1024, hard: 2048 } }, oomScoreAdj: 500, noNewPrivileges: true },
    ).process!;
    expect(p.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }]);
    expect(p.oomScoreAdj).toBe(500);
    expect(p.noNewPrivileges).toBe(true);
    expect(code(() => buildSpec({ Cmd: ['sh'] }, { ulimits: { nofile: { soft: 3, hard: 2 } } }))).toBe(
      'INVALID_OPTION',
    );
    expect(code(() => buildSpec({ Cmd: ['sh'] }, { ulimits: { bogus: { soft: 1, hard: 1 } } }))).toBe(
      'INVALID_OPTION',
    );
    expect(code(() => buildSpec({ Cmd: ['sh'] }, { oomScoreAdj: -1001 }))).toBe('INVALID_OPTION');
  });
});

describe('buildSpec: mounts, devices, paths, namespaces', () => {
  it("docker's default mounts, with --shm-size and --tmpfs", () => {
    const s = buildSpec(
      { Cmd: ['sh'] },
      { shmSize: 128 * 1024 * 1024, tmpfs: { '/run': 'size=1m,exec', '/dev/shm': '' } },
    );
    const by = Object.fromEntries(s.mounts!.map((m) => [m.destination, m]));
    expect(Object.keys(by)).toEqual([
      '/proc',
      '/dev',
      '/dev/pts',
      '/sys',
      '/sys/fs/cgroup',
      '/dev/mqueue',
      '/dev/shm',
      '/run',
    ]);
    expect(by['/sys']!.options).toContain('ro');
    expect(by['/sys/fs/cgroup']!.options).toContain('ro');
    expect(by['/dev/pts']!.options).toEqual([
      'nosuid',
      'noexec',
      'newinstance',
      'ptmxmode=0666',
      'mode=0620',
      'gid=5',
    ]);
    expect(by['/run']!.options).toEqual(['nosuid', 'nodev', 'size=1m', 'exec']);
    expect(by['/dev/shm']!.options).toEqual(['noexec', 'nosuid', 'nodev']);
    const shm = buildSpec({ Cmd: ['sh'] }, { shmSize: 128 * 1024 * 1024 }).mounts!.find(
      (m) => m.destination === '/dev/shm',
    )!;
    expect(shm.options).toContain('size=134217728');
    expect(buildSpec({ Cmd: ['sh'] }).mounts!.find((m) => m.destination === '/dev/shm')!.options).toContain(
      'size=67108864',
    );
  });
  it('default devices and the device cgroup allow-list', () => {
    const l = buildSpec({ Cmd: ['sh'] }).linux!;
    expect(l.devices!.map((d) => `${d.path} ${d.major}:${d.minor}`)).toEqual([
      '/dev/null 1:3',
      '/dev/zero 1:5',
      '/dev/full 1:7',
      '/dev/random 1:8',
      '/dev/urandom 1:9',
      '/dev/tty 5:0',
    ]);
    expect(l.resources!.devices![0]).toEqual({ allow: false, access: 'rwm' });
    expect(l.resources!.devices!.filter((d) => d.allow).map((d) => `${d.major}:${d.minor}`)).toEqual([
      '1:5',
      '1:3',
      '1:9',
      '1:8',
      '5:0',
      '5:1',
    ]);
  });
  it('masked and read-only paths, none when privileged', () => {
    const l = buildSpec({ Cmd: ['sh'] }).linux!;
    expect(l.maskedPaths).toContain('/proc/kcore');
    expect(l.readonlyPaths).toEqual([
      '/proc/bus',
      '/proc/fs',
      '/proc/irq',
      '/proc/sys',
      '/proc/sysrq-trigger',
    ]);
    const p = buildSpec({ Cmd: ['sh'] }, { privileged: true });
    expect(p.linux!.maskedPaths).toEqual([]);
    expect(p.linux!.readonlyPaths).toEqual([]);
    expect(p.mounts!.find((m) => m.destination === '/sys')!.options).toContain('rw');
  });
  it('--read-only and namespaces, host modes leaving them out', () => {
    expect(buildSpec({ Cmd: ['sh'] }, { readOnly: true }).root).toEqual({ path: 'rootfs', readonly: true });
    expect(buildSpec({ Cmd: ['sh'] }).linux!.namespaces!.map((n) => n.type)).toEqual([
      'mount',
      'network',
      'uts',
      'pid',
      'ipc',
      'cgroup',
    ]);
    expect(
      buildSpec(
        { Cmd: ['sh'] },
        { networkHost: true, pidHost: true, cgroupns: 'host' },
      ).linux!.namespaces!.map((n) => n.type),
    ).toEqual(['mount', 'uts', 'ipc']);
  });
  it('--sysctl accepts namespaced keys only', () => {
    expect(
      buildSpec(
        { Cmd: ['sh'] },
        { sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '10' } },
      ).linux!.sysctl,
    ).toEqual({ 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '10' });
    expect(code(() => buildSpec({ Cmd: ['sh'] }, { sysctl: { 'kernel.panic': '1' } }))).toBe(
      'SYSCTL_NOT_NAMESPACED',
    );
    expect(code(() => buildSpec({ Cmd: ['sh'] }, { sysctl: { 'vm.swappiness': '1' } }))).toBe(
      'SYSCTL_NOT_NAMESPACED',
    );
    expect(
      code(() => buildSpec({ Cmd: ['sh'] }, { networkHost: true, sysctl: { 'net.ipv4.ip_forward': '1' } })),
    ).toBe('SYSCTL_NOT_NAMESPACED');
  });
});
