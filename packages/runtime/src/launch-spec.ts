/**
 * The encoder of berth's launch description, format `berth.launch.v1`: the flat key=value text
 * that berth-shim reads (native/launch.h holds the decoder and documents every key). These two
 * files are the whole contract between TypeScript and C; golden fixtures in testdata/launch/
 * are read by both sides' tests.
 */
import { BerthError, type LinuxIDMapping, type Spec } from '@berth/oci';

/** The first line of every launch description. */
export const LAUNCH_VERSION = 'berth.launch.v1';

/**
 * Spec annotation `withInit` sets when PID 1 is berth-init: berth-shim then starts it with every
 * signal blocked ({@link LaunchDescription.blockSignals}). runc and crun ignore it.
 */
export const INIT_SIGBLOCK_ANNOTATION = 'org.berth.init.sigblock';

/** Error codes thrown by {@link encodeLaunch}. */
export const LaunchSpecErrorCode = { LAUNCH_INVALID: 'LAUNCH_INVALID' } as const;
/** Union of {@link LaunchSpecErrorCode} values. */
export type LaunchSpecErrorCode = (typeof LaunchSpecErrorCode)[keyof typeof LaunchSpecErrorCode];

/** Namespace kinds the shim creates or joins. Kinds left out are shared with the shim ("host"). */
export type NamespaceType = 'pid' | 'mount' | 'uts' | 'ipc' | 'net' | 'cgroup' | 'user';

/** The kernel's limit on lines in /proc/PID/uid_map (Linux 4.15). */
export const MAX_ID_MAPPINGS = 340;

/** Mount propagation of `/` before pivot_root. */
export type Propagation =
  | 'private'
  | 'rprivate'
  | 'slave'
  | 'rslave'
  | 'shared'
  | 'rshared'
  | 'unbindable'
  | 'runbindable';

/** A capability set, by Linux capability names (`CAP_CHOWN`...). */
export interface CapabilitySets {
  bounding: readonly string[];
  effective: readonly string[];
  permitted: readonly string[];
  inheritable: readonly string[];
  ambient: readonly string[];
}

/** A resource limit; `'unlimited'` or a number for each bound. */
export interface LaunchRlimit {
  /** OCI name, `RLIMIT_NOFILE`. */
  type: string;
  soft: number | bigint | 'unlimited';
  hard: number | bigint | 'unlimited';
}

/** A device node created in the container's /dev. */
export interface LaunchDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  /** Permission bits, e.g. 0o666. */
  fileMode: number;
  uid: number;
  gid: number;
}

/**
 * The shim's hooks (launch.h `hook.*`): the engine's work that must happen when no berth process
 * is around. Paths are absolute; argv[0] is executed as is (no PATH search).
 */
export interface ShimHooks {
  /** Run once, detached, after the exit is recorded (restart policy, --rm, events). */
  exit?: readonly string[];
  /** Run every `intervalMs` (at least 100) while the container runs, never two at a time. */
  health?: { argv: readonly string[]; intervalMs: number };
  /** The hooks' working directory (default /). */
  cwd?: string;
  /** The hooks' environment, `NAME=value` (default the shim's own). */
  env?: readonly string[];
}

/** A mount, with OCI runtime-spec options (`ro`, `nosuid`, `rbind`, `size=65536k`...). */
export interface LaunchMount {
  destination: string;
  type: string;
  source: string;
  options?: readonly string[];
}

/**
 * Everything berth-shim needs to launch one container, as data. {@link encodeLaunch} turns it
 * into the `berth.launch.v1` text. Paths are host paths except `mounts[].destination`,
 * `devices[].path`, `maskedPaths`, `readonlyPaths` and `cwd`, which are inside the container.
 */
export interface LaunchDescription {
  id: string;
  rootfs?: string;
  rootfsReadonly?: boolean;
  rootfsPropagation?: Propagation;
  /** New namespaces (no path) or joined ones (a path such as /proc/123/ns/net). */
  namespaces?: readonly { type: NamespaceType; path?: string }[];
  /**
   * The maps of a new user namespace (OCI `linux.uidMappings`/`gidMappings`), required with
   * one: the shim writes them right after the clone, before anything runs in it.
   */
  uidMappings?: readonly LinuxIDMapping[];
  gidMappings?: readonly LinuxIDMapping[];
  hostname?: string;
  /** Bring `lo` up in the new network namespace (docker's `--network none`); needs a new `net`. */
  loopback?: boolean;
  mounts?: readonly LaunchMount[];
  devices?: readonly LaunchDevice[];
  maskedPaths?: readonly string[];
  readonlyPaths?: readonly string[];
  sysctl?: Readonly<Record<string, string>>;
  rlimits?: readonly LaunchRlimit[];
  /** Left out: the capabilities stay as the shim has them. */
  capabilities?: CapabilitySets;
  noNewPrivileges?: boolean;
  /**
   * Start the process with every signal blocked (launch key `sigblock`): for berth-init, which
   * unblocks them for its child. A PID 1 drops any signal it has no handler for, so without this
   * a `kill` that lands between the exec and the init's own sigprocmask is lost.
   */
  blockSignals?: boolean;
  /** A compiled classic BPF program (struct sock_filter[], host byte order). */
  seccomp?: Uint8Array;
  user?: { uid: number; gid: number; additionalGids?: readonly number[] };
  umask?: number;
  cwd?: string;
  /** Required, except with `ociRuntime` (the runtime reads config.json). */
  args?: readonly string[];
  env?: readonly string[];
  oomScoreAdj?: number;
  /**
   * Cgroup directories (one per hierarchy) the caller made: the container's init is in every
   * one before anything runs in it (launch.h `cgroup`, native/cgjoin.h).
   */
  cgroups?: readonly string[];
  stdio?: 'inherit' | 'null' | 'log';
  /** The container's stdin is a pipe the shim feeds from attached clients (docker's `-i`). */
  openStdin?: boolean;
  /** The container's stdio is a pty allocated in its own devpts (OCI `process.terminal`). */
  terminal?: boolean;
  /** The pty's initial window size (OCI `process.consoleSize`); needs `terminal`. */
  consoleSize?: { rows: number; cols: number };
  log?: { path: string; maxSize?: number; maxFile?: number };
  exitFile?: string;
  /**
   * false: the exit record is written atomically without its fsyncs, for a container removed
   * once it exits (`--rm`), whose other records are not durable either (default true).
   */
  exitFileSync?: boolean;
  pidFile?: string;
  controlSocket?: string;
  start?: 'now' | 'wait';
  syncFd?: number;
  /**
   * false: after `created` the shim goes on at once instead of waiting for `continue` (launch
   * key `sync.continue=0`), for a parent with nothing to do in that window. Needs `syncFd`.
   */
  syncContinue?: boolean;
  daemonize?: boolean;
  shimLog?: string;
  /** Programs the shim runs on the container's behalf (launch.h `hook.*`). */
  hooks?: ShimHooks;
  /**
   * Another OCI runtime (runc, crun) creates the container from `bundle`; the shim supervises
   * it (launch.h `oci.runtime`). Excludes every field that sets the container up.
   */
  ociRuntime?: {
    /** Absolute path of the runtime binary. */
    path: string;
    /** Its state directory (`--root`). */
    root: string;
    /** The OCI bundle (config.json + rootfs). */
    bundle: string;
    /** Its json log, read for the error message when a command fails. */
    log?: string;
    /** Run it in a private mount namespace without /sys/fs/cgroup/unified (crun 1.8, hybrid). */
    hideCgroup2?: boolean;
  };
}

/** Linux capability numbers (capability.h), by name. */
export const CAPABILITY_BITS: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

const RLIMITS = new Set([
  'RLIMIT_AS',
  'RLIMIT_CORE',
  'RLIMIT_CPU',
  'RLIMIT_DATA',
  'RLIMIT_FSIZE',
  'RLIMIT_LOCKS',
  'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_NOFILE',
  'RLIMIT_NPROC',
  'RLIMIT_RSS',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
  'RLIMIT_SIGPENDING',
  'RLIMIT_STACK',
]);
const NAMESPACES = new Set<string>(['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup', 'user']);
const PROPAGATIONS = new Set<string>([
  'private',
  'rprivate',
  'slave',
  'rslave',
  'shared',
  'rshared',
  'unbindable',
  'runbindable',
]);

function invalid(field: string, message: string): BerthError<'LAUNCH_INVALID'> {
  return new BerthError('LAUNCH_INVALID', `launch description: ${field}: ${message}`, { input: { field } });
}

/**
 * Checks id mappings as the kernel will (map_write): 1..340 lines, sizes above 0, no range past
 * 2^32 - 1, no overlap on either side.
 *
 * @throws BerthError LAUNCH_INVALID naming the field and the mapping
 */
export function checkIdMappings(maps: readonly LinuxIDMapping[], field: string): void {
  if (maps.length > MAX_ID_MAPPINGS) throw invalid(field, `more than ${MAX_ID_MAPPINGS} mappings`);
  for (const [i, m] of maps.entries()) {
    const show = `${m.containerID}:${m.hostID}:${m.size}`;
    for (const v of [m.containerID, m.hostID, m.size])
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
        throw invalid(`${field}[${i}]`, `${show}: not a valid id`);
    if (m.size === 0) throw invalid(`${field}[${i}]`, `${show}: size 0`);
    if (m.containerID + m.size > 0xffffffff || m.hostID + m.size > 0xffffffff)
      throw invalid(`${field}[${i}]`, `${show}: goes past 4294967295`);
    for (const o of maps.slice(0, i))
      if (
        (m.containerID < o.containerID + o.size && o.containerID < m.containerID + m.size) ||
        (m.hostID < o.hostID + o.size && o.hostID < m.hostID + m.size)
      )
        throw invalid(`${field}[${i}]`, `${show} overlaps ${o.containerID}:${o.hostID}:${o.size}`);
  }
}

/** Whether {@link encodeField} has anything to escape in `value`. */
// one regular-expression scan (native code): a character loop over the seccomp program's 7.5 kB
// of hex cost ~1 ms on every start
// biome-ignore lint/suspicious/noControlCharactersInRegex: the bytes the launch format escapes
const ESCAPED = /[\x00-\x20\x7f%]/;

function needsEscape(value: string): boolean {
  return ESCAPED.test(value);
}

/**
 * Encodes one field of a launch line: bytes <= 0x20, 0x7f and '%' become %XX (UTF-8 passes
 * through). A NUL cannot be encoded and throws LAUNCH_INVALID.
 */
export function encodeField(value: string, field = 'field'): string {
  if (value.includes('\0')) throw invalid(field, 'contains a NUL byte');
  // most fields (the seccomp program's hex, paths, argv) need no escape: no per-character copy
  if (!needsEscape(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c <= 0x20 || c === 0x7f || c === 0x25) out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** Decodes one field encoded by {@link encodeField} (as the shim does). */
export function decodeField(field: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(field, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x25 && i + 2 < raw.length + 0) {
      const hex = raw.subarray(i + 1, i + 3).toString('latin1');
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

function mask(names: readonly string[], field: string): string {
  let m = 0n;
  for (const name of names) {
    const upper = name.toUpperCase();
    const bit = CAPABILITY_BITS[upper.startsWith('CAP_') ? upper : `CAP_${upper}`];
    if (bit === undefined) throw invalid(field, `unknown capability "${name}"`);
    m |= 1n << BigInt(bit);
  }
  return m.toString(16);
}

function absPath(p: string | undefined, field: string): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw invalid(field, `"${p}" is not an absolute path`);
  if (p.includes('\0')) throw invalid(field, 'contains a NUL byte');
  return p;
}

function uint(n: number | undefined, field: string, max = 0xfffffffe): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max)
    throw invalid(field, `${n} is not an integer in 0..${max}`);
  return n;
}

function rlimValue(v: number | bigint | 'unlimited', field: string): string {
  if (v === 'unlimited') return 'unlimited';
  const b = typeof v === 'bigint' ? v : Number.isInteger(v) && v >= 0 ? BigInt(v) : -1n;
  if (b < 0n || b >= 0xffffffffffffffffn) throw invalid(field, `${v} is not a limit`);
  return b.toString();
}

/**
 * Encodes a launch description as `berth.launch.v1` text, validating every field the way the
 * shim will (so a bad value fails here, naming its field, rather than in C).
 *
 * @throws BerthError LAUNCH_INVALID naming the field
 */
export function encodeLaunch(d: LaunchDescription): string {
  const lines: string[] = [LAUNCH_VERSION];
  const put = (key: string, ...fields: string[]) => {
    lines.push(`${key}=${fields.map((f) => encodeField(f, key)).join(' ')}`);
  };
  if (typeof d.id !== 'string' || d.id === '' || d.id.includes('/') || d.id.length > 1024)
    throw invalid('id', `"${d.id}" is not a valid id`);
  put('id', d.id);
  if (d.rootfs !== undefined) put('rootfs', absPath(d.rootfs, 'rootfs'));
  if (d.rootfsReadonly) put('rootfs.readonly', '1');
  if (d.rootfsPropagation !== undefined) {
    if (!PROPAGATIONS.has(d.rootfsPropagation))
      throw invalid('rootfsPropagation', `"${d.rootfsPropagation}" is unknown`);
    put('rootfs.propagation', d.rootfsPropagation);
  }
  const seen = new Set<string>();
  for (const ns of d.namespaces ?? []) {
    if (!NAMESPACES.has(ns.type)) throw invalid('namespaces', `unknown namespace type "${ns.type}"`);
    if (seen.has(ns.type)) throw invalid('namespaces', `${ns.type} given twice`);
    seen.add(ns.type);
    if (ns.path === undefined) put('namespace', ns.type);
    else put('namespace', ns.type, absPath(ns.path, `namespaces.${ns.type}`));
  }
  const newUser = (d.namespaces ?? []).some((n) => n.type === 'user' && n.path === undefined);
  for (const [key, field, maps] of [
    ['uid_map', 'uidMappings', d.uidMappings ?? []],
    ['gid_map', 'gidMappings', d.gidMappings ?? []],
  ] as const) {
    if (maps.length && !newUser) throw invalid(field, 'needs a new user namespace');
    if (newUser && !maps.length) throw invalid(field, 'required with a new user namespace');
    checkIdMappings(maps, field);
    for (const m of maps) put(key, String(m.containerID), String(m.hostID), String(m.size));
  }
  const newMount = (d.namespaces ?? []).some((n) => n.type === 'mount' && n.path === undefined);
  if (newMount && d.rootfs === undefined) throw invalid('rootfs', 'required with a new mount namespace');
  if (d.rootfs !== undefined && !newMount) throw invalid('rootfs', 'needs a new mount namespace');
  if (d.hostname !== undefined) {
    if (!(d.namespaces ?? []).some((n) => n.type === 'uts' && n.path === undefined))
      throw invalid('hostname', 'needs a new uts namespace');
    if (Buffer.byteLength(d.hostname) > 64) throw invalid('hostname', 'longer than 64 bytes');
    put('hostname', d.hostname);
  }
  if (d.loopback) {
    if (!(d.namespaces ?? []).some((n) => n.type === 'net' && n.path === undefined))
      throw invalid('loopback', 'needs a new net namespace');
    put('net.loopback', '1');
  }
  for (const [i, m] of (d.mounts ?? []).entries()) {
    absPath(m.destination, `mounts[${i}].destination`);
    if (!m.type) throw invalid(`mounts[${i}].type`, 'empty');
    for (const o of m.options ?? [])
      if (o === '' || o.includes(',')) throw invalid(`mounts[${i}].options`, `bad option "${o}"`);
    put('mount', m.destination, m.type, m.source, ...(m.options ?? []));
  }
  for (const [i, dev] of (d.devices ?? []).entries()) {
    const f = `devices[${i}]`;
    if (!absPath(dev.path, `${f}.path`).startsWith('/dev/'))
      throw invalid(`${f}.path`, `"${dev.path}" is not under /dev`);
    if (!['c', 'b', 'u', 'p'].includes(dev.type))
      throw invalid(`${f}.type`, `"${dev.type}" is not c, b, u or p`);
    put(
      'device',
      dev.path,
      dev.type,
      String(uint(dev.major, `${f}.major`, 0xfff)),
      String(uint(dev.minor, `${f}.minor`, 0xfffff)),
      uint(dev.fileMode, `${f}.fileMode`, 0o7777).toString(8),
      String(uint(dev.uid, `${f}.uid`)),
      String(uint(dev.gid, `${f}.gid`)),
    );
  }
  for (const p of d.maskedPaths ?? []) put('masked', absPath(p, 'maskedPaths'));
  for (const p of d.readonlyPaths ?? []) put('readonly', absPath(p, 'readonlyPaths'));
  for (const [k, v] of Object.entries(d.sysctl ?? {})) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(k) || k.includes('..'))
      throw invalid('sysctl', `"${k}" is not a valid key`);
    put('sysctl', k, v);
  }
  const rl = new Set<string>();
  for (const r of d.rlimits ?? []) {
    if (!RLIMITS.has(r.type)) throw invalid('rlimits', `unknown limit "${r.type}"`);
    if (rl.has(r.type)) throw invalid('rlimits', `${r.type} given twice`);
    rl.add(r.type);
    const soft = rlimValue(r.soft, `rlimits.${r.type}.soft`);
    const hard = rlimValue(r.hard, `rlimits.${r.type}.hard`);
    if (hard !== 'unlimited' && (soft === 'unlimited' || BigInt(soft) > BigInt(hard)))
      throw invalid(`rlimits.${r.type}`, `soft limit ${soft} is above hard limit ${hard}`);
    put('rlimit', r.type, soft, hard);
  }
  if (d.capabilities) {
    const c = d.capabilities;
    put('cap.bounding', mask(c.bounding, 'capabilities.bounding'));
    put('cap.effective', mask(c.effective, 'capabilities.effective'));
    put('cap.permitted', mask(c.permitted, 'capabilities.permitted'));
    put('cap.inheritable', mask(c.inheritable, 'capabilities.inheritable'));
    put('cap.ambient', mask(c.ambient, 'capabilities.ambient'));
  }
  if (d.noNewPrivileges) put('no_new_privs', '1');
  if (d.blockSignals) put('sigblock', '1');
  if (d.seccomp !== undefined) {
    if (d.seccomp.length === 0 || d.seccomp.length % 8 !== 0 || d.seccomp.length / 8 > 4096)
      throw invalid('seccomp', `${d.seccomp.length} bytes is not 1..4096 whole instructions`);
    put('seccomp', Buffer.from(d.seccomp).toString('hex'));
  }
  if (d.user) {
    put(
      'user',
      String(uint(d.user.uid, 'user.uid')),
      String(uint(d.user.gid, 'user.gid')),
      ...(d.user.additionalGids ?? []).map((g) => String(uint(g, 'user.additionalGids'))),
    );
  }
  if (d.umask !== undefined) put('umask', uint(d.umask, 'umask', 0o777).toString(8).padStart(4, '0'));
  if (d.cwd !== undefined) put('cwd', absPath(d.cwd, 'cwd'));
  if (d.ociRuntime) {
    const setup = (
      [
        'rootfs',
        'namespaces',
        'uidMappings',
        'gidMappings',
        'hostname',
        'loopback',
        'mounts',
        'devices',
        'capabilities',
        'seccomp',
        'user',
        'cwd',
        'env',
        'consoleSize',
        'cgroups',
      ] as const
    ).filter((k) => d[k] !== undefined && !(Array.isArray(d[k]) && (d[k] as unknown[]).length === 0));
    if (setup.length)
      throw invalid('ociRuntime', `excludes ${setup.join(', ')} (the runtime reads config.json)`);
    if (d.pidFile === undefined) throw invalid('ociRuntime', 'needs pidFile');
  }
  if (d.args !== undefined || !d.ociRuntime) {
    if (!Array.isArray(d.args) || d.args.length === 0 || d.args[0] === '')
      throw invalid('args', 'no executable');
    put('args', ...d.args);
  }
  for (const e of d.env ?? []) {
    if (!/^[^=]+=/.test(e)) throw invalid('env', `"${e}" is not NAME=value`);
    put('env', e);
  }
  if (d.oomScoreAdj !== undefined) {
    if (!Number.isInteger(d.oomScoreAdj) || d.oomScoreAdj < -1000 || d.oomScoreAdj > 1000)
      throw invalid('oomScoreAdj', `${d.oomScoreAdj} is not in -1000..1000`);
    put('oom_score_adj', String(d.oomScoreAdj));
  }
  for (const c of d.cgroups ?? []) put('cgroup', absPath(c, 'cgroups'));
  if (d.stdio !== undefined) put('stdio', d.stdio);
  if (d.openStdin) {
    if ((d.stdio ?? 'inherit') === 'inherit' || d.terminal)
      throw invalid('openStdin', 'needs stdio "log" or "null" and no terminal');
    put('stdin', '1');
  }
  if (d.terminal) put('terminal', '1');
  if (d.consoleSize !== undefined) {
    if (!d.terminal) throw invalid('consoleSize', 'needs terminal');
    put(
      'terminal.size',
      String(uint(d.consoleSize.rows, 'consoleSize.rows', 65535)),
      String(uint(d.consoleSize.cols, 'consoleSize.cols', 65535)),
    );
  }
  if (d.stdio === 'log' && !d.log) throw invalid('log', 'required with stdio "log"');
  if (d.log) {
    put('log.path', absPath(d.log.path, 'log.path'));
    if (d.log.maxSize !== undefined)
      put('log.max_size', String(uint(d.log.maxSize, 'log.maxSize', Number.MAX_SAFE_INTEGER)));
    if (d.log.maxFile !== undefined) {
      if (uint(d.log.maxFile, 'log.maxFile', 1000) < 1) throw invalid('log.maxFile', 'must be at least 1');
      put('log.max_file', String(d.log.maxFile));
    }
  }
  if (d.exitFile !== undefined) put('exit_file', absPath(d.exitFile, 'exitFile'));
  if (d.exitFileSync === false) {
    if (d.exitFile === undefined) throw invalid('exitFileSync', 'needs exitFile');
    put('exit_file.sync', '0');
  }
  if (d.pidFile !== undefined) put('pid_file', absPath(d.pidFile, 'pidFile'));
  if (d.controlSocket !== undefined) {
    if (Buffer.byteLength(absPath(d.controlSocket, 'controlSocket')) > 107)
      throw invalid('controlSocket', 'longer than 107 bytes (sun_path)');
    put('control_socket', d.controlSocket);
  }
  if (d.start !== undefined) {
    if (d.start === 'wait' && d.controlSocket === undefined)
      throw invalid('start', '"wait" needs controlSocket');
    put('start', d.start);
  }
  if (d.syncFd !== undefined) {
    if (uint(d.syncFd, 'syncFd', 0x7fffffff) < 3) throw invalid('syncFd', `${d.syncFd} is a stdio fd`);
    put('sync_fd', String(d.syncFd));
  }
  if (d.syncContinue === false) {
    if (d.syncFd === undefined) throw invalid('syncContinue', 'needs syncFd');
    put('sync.continue', '0');
  }
  if (d.daemonize) put('daemonize', '1');
  if (d.shimLog !== undefined) put('shim.log', absPath(d.shimLog, 'shimLog'));
  if (d.hooks) {
    const h = d.hooks;
    const argv = (a: readonly string[], field: string) => {
      if (a.length === 0) throw invalid(field, 'empty');
      absPath(a[0] as string, field);
      return a.map(String);
    };
    if (h.exit) put('hook.exit', ...argv(h.exit, 'hooks.exit'));
    if (h.health) {
      put('hook.health', ...argv(h.health.argv, 'hooks.health.argv'));
      const iv = h.health.intervalMs;
      if (!Number.isInteger(iv) || iv < 100) throw invalid('hooks.health.intervalMs', `${iv} is below 100`);
      put('hook.health_interval', String(iv));
    }
    if (h.cwd !== undefined) put('hook.cwd', absPath(h.cwd, 'hooks.cwd'));
    for (const e of h.env ?? []) {
      if (e.indexOf('=') <= 0) throw invalid('hooks.env', `"${e}" is not NAME=value`);
      put('hook.env', e);
    }
  }
  if (d.ociRuntime) {
    const o = d.ociRuntime;
    put('oci.runtime', absPath(o.path, 'ociRuntime.path'));
    put('oci.root', absPath(o.root, 'ociRuntime.root'));
    put('oci.bundle', absPath(o.bundle, 'ociRuntime.bundle'));
    if (o.log !== undefined) put('oci.log', absPath(o.log, 'ociRuntime.log'));
    if (o.hideCgroup2) put('oci.hide_cgroup2', '1');
  }
  return `${lines.join('\n')}\n`;
}

/** What {@link launchFromSpec} needs besides the OCI spec: where the shim keeps its files. */
export interface LaunchExtras {
  id: string;
  /** The bundle directory; a relative `root.path` is resolved against it. */
  bundleDir: string;
  stdio?: LaunchDescription['stdio'];
  /** Keep a stdin pipe for attached clients (docker's `-i`). */
  openStdin?: boolean;
  log?: LaunchDescription['log'];
  exitFile?: string;
  exitFileSync?: boolean;
  pidFile?: string;
  controlSocket?: string;
  start?: 'now' | 'wait';
  syncFd?: number;
  syncContinue?: boolean;
  daemonize?: boolean;
  shimLog?: string;
  hooks?: ShimHooks;
  /** The compiled filter for `linux.seccomp`. Required when the spec has one. */
  seccomp?: Uint8Array;
}

const NS_FROM_OCI: Readonly<Record<string, NamespaceType>> = {
  pid: 'pid',
  network: 'net',
  mount: 'mount',
  ipc: 'ipc',
  uts: 'uts',
  cgroup: 'cgroup',
  user: 'user',
};

/**
 * Turns an OCI runtime spec (config.json) plus berth's extras into a launch description. What
 * the shim cannot do yet is refused, never dropped: time namespaces, hooks, and a seccomp
 * section without its compiled program.
 *
 * @throws BerthError LAUNCH_INVALID naming the spec field
 */
export function launchFromSpec(spec: Spec, x: LaunchExtras): LaunchDescription {
  const p = spec.process;
  if (!p) throw invalid('process', 'missing');
  if (!p.args || p.args.length === 0) throw invalid('process.args', 'no executable');
  const hooks = spec.hooks ?? {};
  for (const [k, v] of Object.entries(hooks))
    if (Array.isArray(v) && v.length) throw invalid(`hooks.${k}`, 'hooks are not supported');
  if (!spec.root?.path) throw invalid('root.path', 'missing');
  const linux = spec.linux ?? {};
  const namespaces: { type: NamespaceType; path?: string }[] = [];
  for (const ns of linux.namespaces ?? []) {
    const t = NS_FROM_OCI[ns.type];
    if (!t) throw invalid('linux.namespaces', `"${ns.type}" namespaces are not supported`);
    namespaces.push(ns.path ? { type: t, path: ns.path } : { type: t });
  }
  if (linux.seccomp && !x.seccomp) throw invalid('linux.seccomp', 'no compiled filter given');
  const mounts: LaunchMount[] = (spec.mounts ?? []).map((m, i) => {
    if (m.uidMappings?.length || m.gidMappings?.length)
      throw invalid(`mounts[${i}]`, 'idmapped mounts are not supported');
    const bind = m.options?.some((o) => o === 'bind' || o === 'rbind') ?? false;
    const type = m.type ?? (bind ? 'bind' : '');
    return { destination: m.destination, type, source: m.source ?? type, options: m.options ?? [] };
  });
  const devices: LaunchDevice[] = (linux.devices ?? []).map((dev, i) => {
    if (dev.type !== 'c' && dev.type !== 'b' && dev.type !== 'u' && dev.type !== 'p')
      throw invalid(`linux.devices[${i}].type`, `"${dev.type}" is not c, b, u or p`);
    return {
      path: dev.path,
      type: dev.type,
      major: dev.major ?? 0,
      minor: dev.minor ?? 0,
      fileMode: (dev.fileMode ?? 0o666) & 0o7777,
      uid: dev.uid ?? 0,
      gid: dev.gid ?? 0,
    };
  });
  const caps = p.capabilities;
  const d: LaunchDescription = {
    id: x.id,
    rootfs: spec.root.path.startsWith('/')
      ? spec.root.path
      : `${x.bundleDir.replace(/\/+$/, '')}/${spec.root.path}`,
    rootfsReadonly: spec.root.readonly === true,
    namespaces,
    mounts,
    devices,
    maskedPaths: linux.maskedPaths ?? [],
    readonlyPaths: linux.readonlyPaths ?? [],
    sysctl: linux.sysctl ?? {},
    rlimits: (p.rlimits ?? []).map((r) => ({ type: r.type, soft: r.soft, hard: r.hard })),
    noNewPrivileges: p.noNewPrivileges === true,
    blockSignals: spec.annotations?.[INIT_SIGBLOCK_ANNOTATION] === 'true',
    user: { uid: p.user.uid, gid: p.user.gid, additionalGids: p.user.additionalGids ?? [] },
    cwd: p.cwd,
    args: p.args,
    env: p.env ?? [],
  };
  if (namespaces.some((n) => n.type === 'user' && n.path === undefined)) {
    d.uidMappings = linux.uidMappings ?? [];
    d.gidMappings = linux.gidMappings ?? [];
  } else if (linux.uidMappings?.length || linux.gidMappings?.length) {
    throw invalid('linux.uidMappings', 'needs a new user namespace in linux.namespaces');
  }
  if (linux.rootfsPropagation) d.rootfsPropagation = linux.rootfsPropagation as Propagation;
  if (spec.hostname !== undefined && spec.hostname !== '') d.hostname = spec.hostname;
  if (caps) {
    d.capabilities = {
      bounding: caps.bounding ?? [],
      effective: caps.effective ?? [],
      permitted: caps.permitted ?? [],
      inheritable: caps.inheritable ?? [],
      ambient: caps.ambient ?? [],
    };
  }
  if (x.seccomp) d.seccomp = x.seccomp;
  if (p.terminal) {
    d.terminal = true;
    if (p.consoleSize) d.consoleSize = { rows: p.consoleSize.height, cols: p.consoleSize.width };
  }
  if (p.user.umask !== undefined) d.umask = p.user.umask;
  if (p.oomScoreAdj !== undefined) d.oomScoreAdj = p.oomScoreAdj;
  const extras = [
    'stdio',
    'openStdin',
    'log',
    'exitFile',
    'exitFileSync',
    'pidFile',
    'controlSocket',
    'start',
    'syncFd',
    'syncContinue',
    'daemonize',
    'shimLog',
    'hooks',
  ] as const;
  for (const k of extras) if (x[k] !== undefined) (d as unknown as Record<string, unknown>)[k] = x[k];
  return d;
}
