/**
 * buildSpec: an OCI runtime spec with exactly docker's defaults, from an image config and
 * docker-run-like options (moby daemon/pkg/oci/defaults.go DefaultLinuxSpec,
 * daemon/pkg/oci/caps/defaults.go, daemon/oci_linux.go, container/env.go). Pure: the image's
 * /etc/passwd and /etc/group come in as text.
 */
import {
  BerthError,
  type ContainerConfig,
  type LinuxDeviceCgroup,
  type LinuxIDMapping,
  type Spec,
  type SpecMount,
} from '@berth/oci';
import { CAPABILITY_BITS, checkIdMappings } from './launch-spec.js';
import {
  resolveSeccompProfile,
  type SeccompArch,
  type SeccompProfile,
  sharedDefaultSeccompProfile,
} from './seccomp/profile.js';
import { resolveUser } from './user.js';

/** Error codes thrown by {@link buildSpec}. */
export const SpecErrorCode = {
  NO_COMMAND: 'NO_COMMAND',
  INVALID_OPTION: 'INVALID_OPTION',
  SYSCTL_NOT_NAMESPACED: 'SYSCTL_NOT_NAMESPACED',
} as const;
/** Union of {@link SpecErrorCode} values. */
export type SpecErrorCode = (typeof SpecErrorCode)[keyof typeof SpecErrorCode];

/** Docker's 14 default capabilities (caps/defaults.go): CapEff 00000000a80425fb. */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
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
]);

/** Docker's masked paths (DefaultLinuxSpec). */
export const DEFAULT_MASKED_PATHS: readonly string[] = Object.freeze([
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
]);

/** Docker's read-only paths (DefaultLinuxSpec). */
export const DEFAULT_READONLY_PATHS: readonly string[] = Object.freeze([
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
]);

/** docker's DefaultPathEnv for Linux. */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** docker's default /dev/shm size, 64 MiB (daemon/config DefaultShmSize). */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** Options of {@link buildSpec}, as `docker run` takes them. */
export interface BuildSpecOptions {
  /** Default "" (the engine passes the first 12 characters of the id, as docker). */
  hostname?: string;
  /** `--entrypoint`; `[]` clears the image's (docker's `--entrypoint ""`). Also drops the image Cmd. */
  entrypoint?: readonly string[];
  /** The command after the image name; replaces the image's Cmd. */
  cmd?: readonly string[];
  /** `-e NAME=value`, overriding the image's by name. */
  env?: readonly string[];
  /** `-w`. */
  workdir?: string;
  /** `-u uid[:gid]` or `name[:group]`; default the image's User. */
  user?: string;
  /** `--group-add`. */
  groupAdd?: readonly string[];
  /** The image's /etc/passwd and /etc/group contents, for user resolution. */
  passwd?: string;
  group?: string;
  capAdd?: readonly string[];
  capDrop?: readonly string[];
  privileged?: boolean;
  /**
   * The capabilities that `privileged` and `--cap-add ALL` grant. Podman's rule: the engine's own
   * bounding set (see {@link boundingCapabilities}), so a privileged container starts where the
   * engine itself lacks some capability (a sandbox without CAP_SYS_RESOURCE). Default: every
   * capability this code knows, which is docker's rule.
   */
  availableCapabilities?: readonly string[];
  readOnly?: boolean;
  /** `--tmpfs /path[:opts]`, as path to option string. */
  tmpfs?: Readonly<Record<string, string>>;
  /** Bytes; default 64 MiB. */
  shmSize?: number;
  /** `--sysctl`; only namespaced keys are accepted. */
  sysctl?: Readonly<Record<string, string>>;
  /** `--ulimit nofile=1024:2048` as `{ nofile: { soft, hard } }`. */
  ulimits?: Readonly<Record<string, { soft: number; hard: number }>>;
  oomScoreAdj?: number;
  noNewPrivileges?: boolean;
  /** `--network host` shares the host's network namespace (and forbids net.* sysctls). */
  networkHost?: boolean;
  /** `--pid host`. */
  pidHost?: boolean;
  /** `--ipc host`. */
  ipcHost?: boolean;
  /** `--uts host`. */
  utsHost?: boolean;
  /**
   * A user namespace with these maps (podman's `--uidmap`/`--gidmap`, docker's userns-remap):
   * `linux.namespaces` gets `user` and `linux.uidMappings`/`gidMappings` the maps. The rootfs
   * must look owned by the container's root: an idmapped mount ({@link idmappedMount}) or a
   * chowned copy. Refused with `privileged`, as docker does. Default: none (`--userns=host`).
   */
  userns?: { uidMappings: readonly LinuxIDMapping[]; gidMappings: readonly LinuxIDMapping[] };
  /** `--cgroupns`; default private (docker's default on cgroup v2). */
  cgroupns?: 'private' | 'host';
  /** The rootfs path written in `root.path`; default "rootfs". */
  rootfs?: string;
  /**
   * `--security-opt seccomp=…`: `'unconfined'`, or a profile read from PROFILE.json with
   * `parseSeccompProfile`. Default docker's default profile. Ignored with `privileged`, as docker.
   */
  seccomp?: 'unconfined' | SeccompProfile;
  /** The architecture the seccomp profile is resolved for; default the host's. */
  arch?: SeccompArch;
  /** The host kernel release for the profile's `minKernel` rules; default `os.release()`. */
  kernel?: string;
}

function bad(field: string, message: string): BerthError<'INVALID_OPTION'> {
  return new BerthError('INVALID_OPTION', `${field}: ${message}`, { input: { field } });
}

function capName(c: string, field: string): string {
  const u = c.toUpperCase();
  const name = u.startsWith('CAP_') ? u : `CAP_${u}`;
  if (u !== 'ALL' && CAPABILITY_BITS[name] === undefined) throw bad(field, `unknown capability "${c}"`);
  return u === 'ALL' ? 'ALL' : name;
}

/** All capabilities this code knows (--privileged, --cap-add ALL). */
const ALL_CAPS = Object.entries(CAPABILITY_BITS)
  .sort((a, b) => a[1] - b[1])
  .map(([n]) => n);

/** docker's TweakCapabilities: defaults, then drops and adds; ALL in either side wins. */
function capabilities(o: BuildSpecOptions): string[] {
  const available = o.availableCapabilities;
  const all = available ? ALL_CAPS.filter((c) => available.includes(c)) : ALL_CAPS;
  if (o.privileged) return [...all];
  const add = (o.capAdd ?? []).map((c) => capName(c, 'capAdd'));
  const drop = (o.capDrop ?? []).map((c) => capName(c, 'capDrop'));
  if (add.includes('ALL')) return all.filter((c) => !drop.includes(c));
  const base = drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  for (const c of add) if (!base.includes(c)) base.push(c);
  return base;
}

/** Namespaced sysctls docker accepts (opts.ValidateSysctl). */
function checkSysctl(key: string, networkHost: boolean, ipcHost: boolean): void {
  const ipc = [
    'kernel.msgmax',
    'kernel.msgmnb',
    'kernel.msgmni',
    'kernel.sem',
    'kernel.shmall',
    'kernel.shmmax',
    'kernel.shmmni',
    'kernel.shm_rmid_forced',
  ];
  const ok =
    ((ipc.includes(key) || key.startsWith('fs.mqueue.')) && !ipcHost) ||
    (key.startsWith('net.') && !networkHost) ||
    key === 'kernel.domainname' ||
    key === 'kernel.hostname';
  if (!ok)
    throw new BerthError(
      'SYSCTL_NOT_NAMESPACED',
      `sysctl "${key}": not allowed in a container (not namespaced${networkHost && key.startsWith('net.') ? ' with --network host' : ''})`,
      {
        input: { field: 'sysctl' },
      },
    );
}

/** docker's ReplaceOrAppendEnvValues: later values replace same-named ones in place. */
function mergeEnv(base: string[], over: readonly string[], field: string): string[] {
  const out = [...base];
  for (const e of over) {
    const eq = e.indexOf('=');
    if (eq <= 0) throw bad(field, `"${e}" is not NAME=value`);
    const name = e.slice(0, eq);
    const i = out.findIndex((x) => x.slice(0, x.indexOf('=')) === name);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

function tmpfsOptions(path: string, opts: string): string[] {
  // docker's --tmpfs defaults (daemon/volumes_unix.go): noexec, nosuid, nodev unless overridden
  const given = opts === '' ? [] : opts.split(',');
  for (const o of given) if (o === '' || /\s/.test(o)) throw bad('tmpfs', `${path}: bad option "${o}"`);
  const out = ['noexec', 'nosuid', 'nodev'].filter(
    (d) => !given.includes(d.replace(/^no/, '')) && !given.includes(d),
  );
  return [...out, ...given];
}

const DEVICES = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
] as const;

/**
 * Builds the OCI runtime spec docker would write for `image` and `o`. The result is data: no
 * file is read or written.
 *
 * @throws BerthError NO_COMMAND (neither entrypoint nor cmd), INVALID_OPTION naming the
 *   option, SYSCTL_NOT_NAMESPACED, USER_NOT_FOUND, GROUP_NOT_FOUND, SECCOMP_UNSUPPORTED (a host
 *   architecture other than x86_64 or aarch64)
 */
export function buildSpec(image: ContainerConfig | undefined, o: BuildSpecOptions = {}): Spec {
  const cfg = image ?? {};
  // Entrypoint/Cmd (daemon/create.go, runconfig): an --entrypoint override drops the image Cmd
  const entrypoint = o.entrypoint ?? cfg.Entrypoint ?? [];
  const cmd = o.cmd ?? (o.entrypoint !== undefined ? [] : (cfg.Cmd ?? []));
  const args = [...entrypoint, ...cmd];
  if (args.length === 0 || args[0] === '')
    throw new BerthError('NO_COMMAND', 'no command specified', { input: { field: 'cmd' } });
  const workdir = o.workdir ?? (cfg.WorkingDir || '/');
  if (!workdir.startsWith('/'))
    throw bad('workdir', `the working directory "${workdir}" is invalid, it needs to be an absolute path`);
  const user = resolveUser(
    o.user ?? cfg.User ?? '',
    { passwd: o.passwd ?? '', group: o.group ?? '' },
    o.groupAdd ?? [],
  );
  const hostname = o.hostname ?? '';
  // env: PATH and HOSTNAME first, then the image's and the user's by name (container/env.go)
  const configEnv = mergeEnv(cfg.Env ?? [], o.env ?? [], 'env');
  let env = mergeEnv([DEFAULT_PATH_ENV, `HOSTNAME=${hostname}`], configEnv, 'env');
  // runc sets HOME from passwd when it is unset; berth-shim does not read passwd, so it goes here
  if (!env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${user.home}`];

  const caps = capabilities(o);
  const shm = o.shmSize ?? DEFAULT_SHM_SIZE;
  if (!Number.isInteger(shm) || shm <= 0) throw bad('shmSize', `${shm} is not a positive number of bytes`);
  const mounts: SpecMount[] = [
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
    {
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev', o.privileged ? 'rw' : 'ro'],
    },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', o.privileged ? 'rw' : 'ro'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`],
    },
  ];
  for (const [path, opts] of Object.entries(o.tmpfs ?? {})) {
    if (!path.startsWith('/') || path === '/')
      throw bad('tmpfs', `"${path}" is not an absolute path below /`);
    const m: SpecMount = {
      destination: path,
      type: 'tmpfs',
      source: 'tmpfs',
      options: tmpfsOptions(path, opts),
    };
    const i = mounts.findIndex((x) => x.destination === path);
    if (i >= 0) mounts[i] = m;
    else mounts.push(m);
  }

  const sysctl: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.sysctl ?? {})) {
    checkSysctl(k, o.networkHost === true, o.ipcHost === true);
    sysctl[k] = v;
  }
  const rlimits = Object.entries(o.ulimits ?? {}).map(([name, l]) => {
    if (!/^[a-z]+$/.test(name)) throw bad('ulimits', `"${name}" is not a limit name`);
    if (!Number.isInteger(l.soft) || !Number.isInteger(l.hard) || l.soft < 0 || l.hard < l.soft)
      throw bad('ulimits', `${name}: soft ${l.soft} must be at most hard ${l.hard}`);
    return { type: `RLIMIT_${name.toUpperCase()}`, soft: l.soft, hard: l.hard };
  });
  const RLIMITS = [
    'AS',
    'CORE',
    'CPU',
    'DATA',
    'FSIZE',
    'LOCKS',
    'MEMLOCK',
    'MSGQUEUE',
    'NICE',
    'NOFILE',
    'NPROC',
    'RSS',
    'RTPRIO',
    'RTTIME',
    'SIGPENDING',
    'STACK',
  ];
  for (const r of rlimits)
    if (!RLIMITS.includes(r.type.slice(7)))
      throw bad('ulimits', `unknown limit "${r.type.slice(7).toLowerCase()}"`);
  if (
    o.oomScoreAdj !== undefined &&
    (!Number.isInteger(o.oomScoreAdj) || o.oomScoreAdj < -1000 || o.oomScoreAdj > 1000)
  )
    throw bad('oomScoreAdj', `${o.oomScoreAdj} is not in -1000..1000`);

  if (o.userns) {
    if (o.privileged)
      throw bad(
        'userns',
        'privileged mode is incompatible with user namespaces; run the container with --userns=host',
      );
    for (const [f, maps] of [
      ['uidMappings', o.userns.uidMappings],
      ['gidMappings', o.userns.gidMappings],
    ] as const) {
      if (maps.length === 0) throw bad(`userns.${f}`, 'no mapping');
      try {
        checkIdMappings(maps, `userns.${f}`);
      } catch (err) {
        throw bad(`userns.${f}`, (err as Error).message.replace(/^launch description: [^:]+: /, ''));
      }
    }
  }
  const namespaces: NonNullable<NonNullable<Spec['linux']>['namespaces']> = [{ type: 'mount' }];
  if (o.userns) namespaces.unshift({ type: 'user' });
  if (!o.networkHost) namespaces.push({ type: 'network' });
  if (!o.utsHost) namespaces.push({ type: 'uts' });
  if (!o.pidHost) namespaces.push({ type: 'pid' });
  if (!o.ipcHost) namespaces.push({ type: 'ipc' });
  if ((o.cgroupns ?? 'private') === 'private') namespaces.push({ type: 'cgroup' });

  const deviceCgroup: LinuxDeviceCgroup[] = o.privileged
    ? [{ allow: true, access: 'rwm' }]
    : [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
        { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
        { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
        { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
      ];

  const spec: Spec = {
    // 1.1.0: the newest crun 1.8 (Debian 12) accepts ("unknown version specified" for 1.2);
    // nothing berth writes needs 1.2, so the same bundle runs under runc and crun
    ociVersion: '1.1.0',
    root: { path: o.rootfs ?? 'rootfs', readonly: o.readOnly === true },
    hostname,
    mounts,
    process: {
      terminal: false,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args,
      env,
      cwd: workdir,
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: o.noNewPrivileges === true,
      ...(rlimits.length ? { rlimits } : {}),
      ...(o.oomScoreAdj !== undefined ? { oomScoreAdj: o.oomScoreAdj } : {}),
    },
    linux: {
      namespaces,
      // the shim creates exactly the listed nodes (runc adds these itself from its defaults)
      devices: DEVICES.map(([path, major, minor]) => ({
        path,
        type: 'c',
        major,
        minor,
        fileMode: 0o666,
        uid: 0,
        gid: 0,
      })),
      resources: { devices: deviceCgroup },
      ...(o.userns
        ? {
            uidMappings: o.userns.uidMappings.map((m) => ({ ...m })),
            gidMappings: o.userns.gidMappings.map((m) => ({ ...m })),
          }
        : {}),
      sysctl,
      // --privileged: no masking (daemon/oci_linux.go WithMaskedPaths/WithReadonlyPaths)
      maskedPaths: o.privileged ? [] : [...DEFAULT_MASKED_PATHS],
      readonlyPaths: o.privileged ? [] : [...DEFAULT_READONLY_PATHS],
    },
  };
  // docker's WithSeccomp: none when privileged or unconfined, else the profile resolved for the
  // container's bounding caps, arch and kernel (the runtime compiles it to BPF for the shim)
  if (!o.privileged && o.seccomp !== 'unconfined') {
    // the resolver copies what it keeps: docker's default is used as loaded, not cloned
    const profile = o.seccomp ?? sharedDefaultSeccompProfile();
    const seccomp = resolveSeccompProfile(profile, {
      capabilities: caps,
      ...(o.arch ? { arch: o.arch } : {}),
      ...(o.kernel ? { kernel: o.kernel } : {}),
    });
    if (seccomp && spec.linux) spec.linux.seccomp = seccomp;
  }
  return spec;
}

/**
 * The capability names in the `CapBnd:` line of a /proc/PID/status text: the bounding set an
 * engine passes as {@link BuildSpecOptions.availableCapabilities}. Unknown bits are ignored.
 * Throws `INVALID_OPTION` when the text has no CapBnd line.
 */
export function boundingCapabilities(status: string): string[] {
  const hex = /^CapBnd:\s*([0-9a-f]+)$/im.exec(status)?.[1];
  if (!hex)
    throw new BerthError('INVALID_OPTION', 'proc status: no CapBnd line', { input: { field: 'CapBnd' } });
  const mask = BigInt(`0x${hex}`);
  return ALL_CAPS.filter((c) => (mask >> BigInt(CAPABILITY_BITS[c]!)) & 1n);
}
