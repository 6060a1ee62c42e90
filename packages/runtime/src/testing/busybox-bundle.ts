/**
 * Test helper: an OCI bundle whose rootfs is Debian's static busybox with its applet links,
 * /etc/passwd and /etc/group, and a config.json with docker's defaults written out by hand.
 * (A hand-written spec keeps these shim tests independent of buildSpec, tested on its own.)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '@berth/oci';

/** Docker's 14 default capabilities (moby daemon/pkg/oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Writes a busybox rootfs at `dir/rootfs`. */
export function makeBusyboxRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'home/app', 'root'])
    mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  writeFileSync(
    join(rootfs, 'etc/group'),
    'root:x:0:\ntty:x:5:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n',
  );
  writeFileSync(join(rootfs, 'etc/plain-file'), 'not executable\n');
  return rootfs;
}

/** A config.json with docker's defaults for `args`; `patch` edits it before writing. */
export function dockerLikeSpec(args: string[], patch: (s: Spec) => void = () => {}): Spec {
  const caps = [...DOCKER_DEFAULT_CAPS];
  const spec: Spec = {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    hostname: 'berth-test',
    process: {
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=berth-test'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
    },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['ro', 'nosuid', 'noexec', 'nodev'],
      },
      {
        destination: '/dev/mqueue',
        type: 'mqueue',
        source: 'mqueue',
        options: ['nosuid', 'noexec', 'nodev'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'],
      },
    ],
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'mount' },
        { type: 'uts' },
        { type: 'ipc' },
        { type: 'network' },
        { type: 'cgroup' },
      ],
      devices: [
        { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
      ],
      maskedPaths: [
        '/proc/asound',
        '/proc/acpi',
        '/proc/interrupts',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
        '/sys/firmware',
        '/sys/devices/virtual/powercap',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  patch(spec);
  return spec;
}

/** Writes `dir/config.json` (and the rootfs, unless `rootfs: false`) and returns dir. */
export function writeBundle(dir: string, spec: Spec, opts: { rootfs?: boolean } = {}): string {
  mkdirSync(dir, { recursive: true });
  if (opts.rootfs !== false) makeBusyboxRootfs(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}
