import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBerthError, type Spec } from '@berth/oci';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeField,
  encodeField,
  encodeLaunch,
  type LaunchDescription,
  launchFromSpec,
} from './launch-spec.js';
import { buildShim } from './testing/shim-build.js';

const testdata = fileURLToPath(new URL('../testdata/launch', import.meta.url));
const goldenCases = readdirSync(testdata).filter((d) => d !== 'invalid');

function loadDescription(name: string): LaunchDescription {
  const raw = JSON.parse(
    readFileSync(join(testdata, name, 'description.json'), 'utf8'),
  ) as LaunchDescription & {
    seccompHex?: string;
  };
  const { seccompHex, ...d } = raw;
  return seccompHex ? { ...d, seccomp: Buffer.from(seccompHex, 'hex') } : d;
}

let shim: string;
beforeAll(() => {
  shim = buildShim();
});

describe('encodeLaunch golden files (testdata/launch/<case>/expected.launch)', () => {
  for (const name of goldenCases) {
    it(`${name}: encodes as expected.launch`, () => {
      const text = encodeLaunch(loadDescription(name));
      const file = join(testdata, name, 'expected.launch');
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
    it(`${name}: berth-shim --check accepts expected.launch`, () => {
      const r = spawnSync(shim, ['--check', join(testdata, name, 'expected.launch')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }
});

describe('berth-shim --check rejects hostile descriptions, naming the line', () => {
  const cases = JSON.parse(readFileSync(join(testdata, 'invalid', 'cases.json'), 'utf8')) as Record<
    string,
    number
  >;
  for (const [file, line] of Object.entries(cases)) {
    it(file, () => {
      const path = join(testdata, 'invalid', file);
      const r = spawnSync(shim, ['--check', path], { encoding: 'utf8' });
      expect(r.status).toBe(125);
      expect(r.stderr).toContain(`launch ${path}:${line}:`);
    });
  }
  it('a missing file', () => {
    const r = spawnSync(shim, ['--check', '/nonexistent/launch'], { encoding: 'utf8' });
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('/nonexistent/launch');
  });
  it('a file over 1 MiB', () => {
    const dir = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
    try {
      const path = join(dir, 'big');
      writeFileSync(path, `berth.launch.v1\nid=x\nargs=/bin/true\n${'#'.repeat(1024 * 1024)}\n`);
      const r = spawnSync(shim, ['--check', path], { encoding: 'utf8' });
      expect(r.status).toBe(125);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('encodeField', () => {
  it('escapes spaces, controls, DEL and % and round-trips UTF-8', () => {
    const s = 'a b\t\n%\x7fü=ok';
    expect(encodeField(s)).toBe('a%20b%09%0A%25%7Fü=ok');
    expect(decodeField(encodeField(s))).toBe(s);
  });
  it('refuses NUL', () => {
    expect(() => encodeField('a\0b', 'args')).toThrow(expect.objectContaining({ code: 'LAUNCH_INVALID' }));
  });
});

describe('encodeLaunch validation', () => {
  const base: LaunchDescription = { id: 'x', args: ['/bin/true'] };
  const bad: [string, LaunchDescription, string][] = [
    ['empty args', { ...base, args: [] }, 'args'],
    ['relative cwd', { ...base, cwd: 'tmp' }, 'cwd'],
    ['hostname without uts', { ...base, hostname: 'h' }, 'hostname'],
    ['loopback without a new net namespace', { ...base, loopback: true }, 'loopback'],
    ['rootfs without mount namespace', { ...base, rootfs: '/r' }, 'rootfs'],
    [
      'unknown capability',
      {
        ...base,
        capabilities: { bounding: ['CAP_FLY'], effective: [], permitted: [], inheritable: [], ambient: [] },
      },
      'capabilities.bounding',
    ],
    [
      'soft above hard',
      { ...base, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }] },
      'rlimits.RLIMIT_NOFILE',
    ],
    ['unknown rlimit', { ...base, rlimits: [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }] }, 'rlimits'],
    [
      'device outside /dev',
      {
        ...base,
        rootfs: '/r',
        namespaces: [{ type: 'mount' }],
        devices: [{ path: '/etc/x', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }],
      },
      'devices[0].path',
    ],
    ['sysctl with slash', { ...base, sysctl: { 'kernel/x': '1' } }, 'sysctl'],
    ['oom out of range', { ...base, oomScoreAdj: 1001 }, 'oomScoreAdj'],
    ['long control socket', { ...base, controlSocket: `/${'s'.repeat(120)}` }, 'controlSocket'],
    ['wait without socket', { ...base, start: 'wait' }, 'start'],
    ['seccomp partial instruction', { ...base, seccomp: new Uint8Array(5) }, 'seccomp'],
    ['env without =', { ...base, env: ['FOO'] }, 'env'],
    ['stdio log without log', { ...base, stdio: 'log' }, 'log'],
    [
      'mount option with comma',
      {
        ...base,
        rootfs: '/r',
        namespaces: [{ type: 'mount' }],
        mounts: [{ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['a,b'] }],
      },
      'mounts[0].options',
    ],
  ];
  for (const [name, d, field] of bad) {
    it(name, () => {
      try {
        encodeLaunch(d);
        expect.fail('no error');
      } catch (err) {
        expect(isBerthError(err, 'LAUNCH_INVALID')).toBe(true);
        expect((err as { input?: { field: string } }).input).toEqual({ field });
      }
    });
  }
});

describe('launchFromSpec', () => {
  const spec: Spec = {
    ociVersion: '1.2.0',
    root: { path: 'rootfs', readonly: true },
    hostname: 'box',
    process: {
      user: { uid: 1, gid: 2, additionalGids: [3], umask: 0o27 },
      args: ['sh'],
      env: ['A=1'],
      cwd: '/w',
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
      noNewPrivileges: true,
      oomScoreAdj: 10,
    },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/b', source: '/host', options: ['rbind'] },
    ],
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'network', path: '/proc/9/ns/net' },
        { type: 'mount' },
        { type: 'uts' },
      ],
      devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o20666 }],
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      sysctl: { 'net.ipv4.ip_forward': '1' },
      rootfsPropagation: 'rslave',
    },
  };
  it('maps the spec onto the launch description', () => {
    const d = launchFromSpec(spec, {
      id: 'c',
      bundleDir: '/b/',
      stdio: 'null',
      start: 'wait',
      controlSocket: '/run/c.sock',
    });
    expect(d).toMatchObject({
      id: 'c',
      rootfs: '/b/rootfs',
      rootfsReadonly: true,
      rootfsPropagation: 'rslave',
      hostname: 'box',
      namespaces: [
        { type: 'pid' },
        { type: 'net', path: '/proc/9/ns/net' },
        { type: 'mount' },
        { type: 'uts' },
      ],
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc', options: [] },
        { destination: '/b', type: 'bind', source: '/host', options: ['rbind'] },
      ],
      devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }],
      user: { uid: 1, gid: 2, additionalGids: [3] },
      umask: 0o27,
      capabilities: {
        bounding: ['CAP_KILL'],
        effective: ['CAP_KILL'],
        permitted: [],
        inheritable: [],
        ambient: [],
      },
      noNewPrivileges: true,
      oomScoreAdj: 10,
      stdio: 'null',
      start: 'wait',
    });
    expect(() => encodeLaunch(d)).not.toThrow();
  });
  it('maps process.terminal and consoleSize to terminal keys', () => {
    const d = launchFromSpec(
      { ...spec, process: { ...spec.process!, terminal: true, consoleSize: { height: 30, width: 100 } } },
      { id: 'c', bundleDir: '/b' },
    );
    expect(d.terminal).toBe(true);
    expect(d.consoleSize).toEqual({ rows: 30, cols: 100 });
    expect(encodeLaunch(d)).toContain('\nterminal=1\nterminal.size=30 100\n');
  });
  it('refuses a stdin pipe with inherited stdio or a terminal', () => {
    expect(() => encodeLaunch({ id: 'c', args: ['sh'], openStdin: true })).toThrow(/openStdin: needs stdio/);
    expect(() =>
      encodeLaunch({ id: 'c', args: ['sh'], stdio: 'null', terminal: true, openStdin: true }),
    ).toThrow(/openStdin/);
    expect(encodeLaunch({ id: 'c', args: ['sh'], stdio: 'null', openStdin: true })).toContain('\nstdin=1\n');
  });
  it('skips the wait for continue only with a sync fd', () => {
    expect(() => encodeLaunch({ id: 'c', args: ['sh'], syncContinue: false })).toThrow(
      /syncContinue: needs syncFd/,
    );
    expect(encodeLaunch({ id: 'c', args: ['sh'], syncFd: 3, syncContinue: false })).toContain(
      '\nsync_fd=3\nsync.continue=0\n',
    );
    expect(encodeLaunch({ id: 'c', args: ['sh'], syncFd: 3, syncContinue: true })).not.toContain(
      'sync.continue',
    );
  });
  it('ociRuntime: no args needed, the setup fields refused, a pid file required', () => {
    const oci = { path: '/usr/sbin/runc', root: '/run/r', bundle: '/b' };
    expect(encodeLaunch({ id: 'c', pidFile: '/p', ociRuntime: oci })).toContain(
      '\noci.runtime=/usr/sbin/runc\n',
    );
    expect(() =>
      encodeLaunch({
        id: 'c',
        pidFile: '/p',
        ociRuntime: oci,
        rootfs: '/b/rootfs',
        namespaces: [{ type: 'mount' }],
      }),
    ).toThrow(/ociRuntime: excludes rootfs, namespaces/);
    expect(() => encodeLaunch({ id: 'c', ociRuntime: oci })).toThrow(/needs pidFile/);
    expect(() => encodeLaunch({ id: 'c', pidFile: '/p', ociRuntime: { ...oci, path: 'runc' } })).toThrow(
      /ociRuntime.path/,
    );
  });
  it('a user namespace carries its maps; one without maps is refused naming them', () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const d = launchFromSpec(
      {
        ...spec,
        linux: {
          namespaces: [{ type: 'user' }, { type: 'mount' }, { type: 'uts' }],
          uidMappings: maps,
          gidMappings: maps,
        },
      },
      { id: 'c', bundleDir: '/b' },
    );
    expect(d.namespaces).toEqual([{ type: 'user' }, { type: 'mount' }, { type: 'uts' }]);
    const text = encodeLaunch(d);
    expect(text).toContain('namespace=user\n');
    expect(text).toContain('uid_map=0 100000 65536\ngid_map=0 100000 65536\n');
    const bare = launchFromSpec(
      { ...spec, linux: { namespaces: [{ type: 'user' }, { type: 'mount' }, { type: 'uts' }] } },
      { id: 'c', bundleDir: '/b' },
    );
    expect(() => encodeLaunch(bare)).toThrow(/uidMappings: required with a new user namespace/);
    expect(() =>
      encodeLaunch({
        ...d,
        uidMappings: [
          { containerID: 0, hostID: 1, size: 10 },
          { containerID: 20, hostID: 5, size: 1 },
        ],
      }),
    ).toThrow(/uidMappings\[1\]: 20:5:1 overlaps 0:1:10/);
  });
  it('refuses a console size without a terminal', () => {
    expect(() => encodeLaunch({ id: 'c', args: ['sh'], consoleSize: { rows: 1, cols: 1 } })).toThrow(
      /consoleSize: needs terminal/,
    );
  });
  const refused: [string, Spec, string][] = [
    ['a time namespace', { ...spec, linux: { namespaces: [{ type: 'time' }] } }, 'linux.namespaces'],
    [
      'uid mappings without a user namespace',
      { ...spec, linux: { uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] } },
      'linux.uidMappings',
    ],
    ['hooks', { ...spec, hooks: { poststart: [{ path: '/bin/true' }] } }, 'hooks.poststart'],
    [
      'seccomp without a program',
      { ...spec, linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } } },
      'linux.seccomp',
    ],
    ['no process', { ociVersion: '1.2.0', root: { path: '/r' } }, 'process'],
  ];
  for (const [name, s, field] of refused) {
    it(`refuses ${name}`, () => {
      try {
        launchFromSpec(s, { id: 'c', bundleDir: '/b' });
        expect.fail('no error');
      } catch (err) {
        expect(isBerthError(err, 'LAUNCH_INVALID')).toBe(true);
        expect((err as { input?: { field: string } }).input).toEqual({ field });
      }
    });
  }
});
