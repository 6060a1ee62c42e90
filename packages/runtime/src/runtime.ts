/**
 * A small lifecycle API over berth-shim that an engine embeds: create, start, kill, wait,
 * state, delete, in OCI runtime terms (runtime-spec runtime.md: creating -> created -> running
 * -> stopped). One directory per container under `root` holds the launch description, the
 * state record, the control socket, the json-file log, the shim's log and its exit file. The
 * shim daemonises, so containers outlive the process that created them, and every call works
 * from any process that points at the same root.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  BerthError,
  isBerthError,
  isoTime,
  type LinuxSeccomp,
  type Logger,
  REMOVE_TREE_SYNC_BUDGET,
  removeTree,
  type Spec,
} from '@berth/oci';
import { type AttachHandle, type AttachOptions, attachSocket, connectSocket } from './attach.js';
import { withAllowedDevices } from './cgroups/allowed-devices.js';
import { containerCgroupPath } from './cgroups/path.js';
import type { CgroupDriver, CgroupStats } from './cgroups/types.js';
import { childPath } from './child-path.js';
import { childProcess } from './child-process.js';
import {
  type ExecOptions,
  type ExecResult,
  execLaunch,
  execSuffix,
  joinCgroupsOf,
  readUserFiles,
  runExec,
} from './exec.js';
import { writeFileReplace } from './fs-util.js';
import { encodeLaunch, type LaunchDescription, launchFromSpec, type ShimHooks } from './launch-spec.js';
import { locateShim } from './locate-shim.js';
import { type NetworkStats, networkStats, pidNamespaceMembers } from './net-stats.js';
import { cachedSeccomp, seccompCacheKey } from './seccomp/cache.js';
import {
  type ControlReply,
  type ExitRecord,
  parseExitRecord,
  parseShimMessage,
  SHIM_EXIT,
} from './shim-protocol.js';
import { errnoError, loadAddon, untilAborted } from './sys/addon.js';
import { syscallFsCalls } from './sys/fs.js';
import { spawnShim } from './sys/spawn.js';

/** Error codes thrown by the {@link Runtime}. */
export const RuntimeErrorCode = {
  INVALID_CONTAINER_ID: 'INVALID_CONTAINER_ID',
  CONTAINER_EXISTS: 'CONTAINER_EXISTS',
  CONTAINER_NOT_FOUND: 'CONTAINER_NOT_FOUND',
  CONTAINER_RUNNING: 'CONTAINER_RUNNING',
  CONTAINER_NOT_RUNNING: 'CONTAINER_NOT_RUNNING',
  BUNDLE_INVALID: 'BUNDLE_INVALID',
  /** The launch failed for a reason of berth's own (docker's exit 125). */
  LAUNCH_FAILED: 'LAUNCH_FAILED',
  /** The executable cannot be run (docker's exit 126). */
  EXEC_PERMISSION_DENIED: 'EXEC_PERMISSION_DENIED',
  /** The executable was not found (docker's exit 127). */
  EXEC_NOT_FOUND: 'EXEC_NOT_FOUND',
  /** The shim went away without recording an exit. */
  SHIM_DIED: 'SHIM_DIED',
  /** A terminal size outside 0..65535. */
  INVALID_SIZE: 'INVALID_SIZE',
} as const;
/** Union of {@link RuntimeErrorCode} values. */
export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode];

/** Where a container is in its lifecycle (`paused`: running, its cgroup frozen). */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'stopped';

/** A container's exit: the shim's record plus what its cgroup saw. */
export interface ExitResult extends ExitRecord {
  /** The OOM killer killed a process of the container (docker's `State.OOMKilled`). */
  oomKilled: boolean;
}

/** A container's state, as {@link Runtime.state} reports it. */
export interface ContainerState {
  id: string;
  status: ContainerStatus;
  /** The container's init, as seen from the host. */
  pid: number;
  /** The supervising berth-shim. */
  shimPid: number;
  bundle: string;
  /** The container's directory under the runtime root. */
  dir: string;
  /** The json-file log, when stdio is "log". */
  logPath?: string;
  createdAt: string;
  /** Set once stopped, when the shim recorded the exit. */
  exit?: ExitResult;
  /** The container's cgroup path, when the runtime has a cgroup driver. */
  cgroupPath?: string;
}

/** What {@link Runtime.stats} reports: the cgroup's usage plus the network namespace's counters. */
export interface ContainerStats extends CgroupStats {
  /** Per interface, `lo` left out; absent when the container shares the host's network namespace. */
  networks?: Record<string, NetworkStats>;
}

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /** State directory; one subdirectory per container. */
  root: string;
  /** berth-shim to use; otherwise {@link locateShim} with `shimSearch`. */
  shim?: string;
  /** Passed to {@link locateShim}: an explicit path ($BERTH_SHIM) and a PATH string. */
  shimSearch?: { shim?: string; searchPath?: string };
  logger?: Logger;
  /**
   * Puts each container in a cgroup (`linux.cgroupsPath`, else `/berth/<id>`) with the spec's
   * `linux.resources`, before its process runs; see {@link createCgroupDriver}. Without it,
   * containers stay in the caller's cgroup and pause/stats are unavailable.
   */
  cgroups?: CgroupDriver;
  /**
   * docker's `--runtime`: another OCI runtime (runc, crun) creates each container from its
   * bundle, unchanged, and berth-shim supervises it (logs, attach, exit record), as
   * containerd-shim does. That runtime places the container in its cgroups itself; when the
   * spec names `linux.cgroupsPath`, pause and stats use that cgroup, otherwise they are
   * unavailable (CGROUP_UNSUPPORTED). exec works as with the shim.
   */
  ociRuntime?: {
    /** Absolute path of the runtime binary. */
    path: string;
    /** Its state directory (`--root`); default `<root>/.oci-<name>`. */
    root?: string;
    /**
     * Run it in a private mount namespace without /sys/fs/cgroup/unified: crun 1.8 refuses
     * hybrid cgroup hosts. Default: on for a binary named crun on a hybrid host.
     */
    hideCgroup2?: boolean;
  };
}

/** Options of {@link Runtime.create}. */
export interface CreateOptions {
  /** The container's stdio: json-file log (default), /dev/null, or the caller's. */
  stdio?: 'log' | 'null' | 'inherit';
  /**
   * Keep the container's stdin open as a pipe that attached clients feed (docker's `-i`);
   * without it stdin is /dev/null. A terminal (`process.terminal`) always takes input.
   */
  openStdin?: boolean;
  /** json-file rotation (docker's `--log-opt max-size`, `max-file`). */
  log?: { maxSize?: number; maxFile?: number };
  /**
   * Called once the container's init exists (cloned, in its namespaces, nothing run yet): the
   * place to put it in its cgroup and set up its network. A throw aborts the launch.
   */
  onCreated?: (info: { id: string; pid: number }) => Promise<void> | void;
  /**
   * Bring `lo` up in the container's new network namespace before its process runs (docker's
   * `--network none`). berth-shim does it itself (an ioctl, no `ip` process); with
   * `ociRuntime` it runs `nsenter … ip link set lo up` once the container exists. Ignored when
   * the spec joins or shares a network namespace.
   */
  loopback?: boolean;
  /**
   * Programs berth-shim runs for this container (launch.h `hook.*`): the exit hook once its exit
   * is recorded, the health hook on an interval while it runs.
   */
  hooks?: ShimHooks;
  /**
   * false: berth-shim writes the exit record without fsyncs (still atomic), for a container
   * removed once it exits (`--rm`), whose own records are not durable either. Default true.
   */
  durableExit?: boolean;
  /**
   * A compiled seccomp program for the spec's `linux.seccomp`; by default the runtime compiles
   * the section itself (`compileSeccomp`), cached per distinct section in memory and, across
   * processes, under `<root>/.seccomp`.
   */
  seccomp?: Uint8Array;
  signal?: AbortSignal;
}

/**
 * The lifecycle of containers under one root. create() leaves the container set up and waiting
 * (`created`); start() execs its process (`running`); run() does both in one launch; wait()
 * resolves with its exit; delete() removes its directory.
 */
export interface Runtime {
  /**
   * Creates a container from an OCI bundle (`bundleDir/config.json`).
   * @throws BerthError INVALID_CONTAINER_ID, CONTAINER_EXISTS, BUNDLE_INVALID, LAUNCH_INVALID,
   *   SHIM_NOT_FOUND, LAUNCH_FAILED, EXEC_NOT_FOUND, EXEC_PERMISSION_DENIED
   */
  create(id: string, bundleDir: string, opts?: CreateOptions): Promise<ContainerState>;
  /**
   * Creates a container and starts its process in one go, as `runc run --detach` does: what
   * create() then start() do, without the stop between them (no `created` state to act in,
   * and fewer exchanges with berth-shim). `onCreated` still runs before the process does. A
   * process that cannot be executed fails it as start() would, and leaves nothing behind.
   * @throws BerthError as create(), and EXEC_NOT_FOUND, EXEC_PERMISSION_DENIED
   */
  run(id: string, bundleDir: string, opts?: CreateOptions): Promise<ContainerState>;
  /**
   * Starts a created container's process.
   * @throws BerthError CONTAINER_NOT_FOUND, CONTAINER_NOT_RUNNING, LAUNCH_FAILED, EXEC_*
   */
  start(id: string, opts?: { signal?: AbortSignal }): Promise<ContainerState>;
  /**
   * Sends a signal (name such as `SIGTERM`, or number) to the container's init.
   * @throws BerthError CONTAINER_NOT_FOUND, CONTAINER_NOT_RUNNING
   */
  kill(id: string, signal?: NodeJS.Signals | number): Promise<void>;
  /**
   * Resolves when the container has exited, with its exit record and whether it was OOM-killed.
   * @throws BerthError CONTAINER_NOT_FOUND, SHIM_DIED
   */
  wait(id: string, opts?: { signal?: AbortSignal }): Promise<ExitResult>;
  /**
   * Freezes every process of a running container (docker pause).
   * @throws BerthError CONTAINER_NOT_FOUND, CONTAINER_NOT_RUNNING, CGROUP_UNSUPPORTED
   */
  pause(id: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Thaws a paused container (docker unpause).
   * @throws BerthError CONTAINER_NOT_FOUND, CONTAINER_NOT_RUNNING, CGROUP_UNSUPPORTED
   */
  resume(id: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Resource usage from the container's cgroup (docker stats), with its network namespace's
   * byte and packet counters when it is running in a namespace of its own.
   * @throws BerthError CONTAINER_NOT_FOUND, CGROUP_UNSUPPORTED, CGROUP_NOT_FOUND
   */
  stats(id: string): Promise<ContainerStats>;
  /**
   * The host pids of the container's processes (docker top): its cgroup's tasks, or, with no
   * cgroup of the runtime's, the processes in its pid namespace. Empty once it has stopped.
   * @throws BerthError CONTAINER_NOT_FOUND
   */
  processes(id: string): Promise<number[]>;
  /** @throws BerthError CONTAINER_NOT_FOUND */
  state(id: string): Promise<ContainerState>;
  /**
   * Attaches to a created or running container: its output (the pty, or stdout and stderr)
   * from now on, and `stdin` to its terminal or stdin pipe. Detach keys (ctrl-p ctrl-q by
   * default) end the attach on the client side; the container keeps running.
   * @throws BerthError CONTAINER_NOT_FOUND, CONTAINER_NOT_RUNNING, INVALID_DETACH_KEYS
   */
  attach(id: string, opts: AttachOptions): Promise<AttachHandle>;
  /**
   * Sets the window size of a container's terminal (docker's resize; SIGWINCH reaches the
   * terminal's foreground process group).
   * @throws BerthError CONTAINER_NOT_FOUND, CONTAINER_NOT_RUNNING (also: no terminal)
   */
  resize(id: string, size: { rows: number; cols: number }): Promise<void>;
  /**
   * Runs a new process in a running container: its namespaces and cgroup, its capabilities,
   * seccomp filter and no_new_privs unless `privileged`, the exec's own user, env, cwd and
   * terminal. Resolves with the process's exit code.
   * @throws BerthError CONTAINER_NOT_FOUND, CONTAINER_NOT_RUNNING, EXEC_NOT_FOUND (docker's
   *   127), EXEC_PERMISSION_DENIED (126), LAUNCH_FAILED (125), USER_NOT_FOUND
   */
  exec(id: string, opts: ExecOptions): Promise<ExecResult>;
  /**
   * Removes a stopped container's directory; `force` kills a live one first.
   * @throws BerthError CONTAINER_NOT_FOUND, CONTAINER_RUNNING
   */
  delete(id: string, opts?: { force?: boolean; signal?: AbortSignal }): Promise<void>;
}

interface StateRecord {
  version: 1;
  id: string;
  bundle: string;
  pid: number;
  shimPid: number;
  started: boolean;
  createdAt: string;
  logPath?: string;
  cgroupPath?: string;
  /** The kernel's boot id at the launch: after a reboot the shim's pid means nothing. */
  bootId?: string;
}

let bootIdText: string | undefined;
/** /proc/sys/kernel/random/boot_id, read once ('' where it is missing). */
function bootId(): string {
  if (bootIdText === undefined) {
    try {
      bootIdText = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdText = '';
    }
  }
  return bootIdText;
}

/** Whether the shim of a record is still running: its pid is alive, in the same boot. */
function shimAlive(rec: StateRecord): boolean {
  if (rec.bootId && bootId() && rec.bootId !== bootId()) return false;
  return alive(rec.shimPid);
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function failureError(
  f: { step: string; errno: number; exitCode: number; message: string },
  id: string,
): BerthError {
  const code =
    f.exitCode === SHIM_EXIT.NOT_FOUND
      ? 'EXEC_NOT_FOUND'
      : f.exitCode === SHIM_EXIT.CANNOT_EXEC
        ? 'EXEC_PERMISSION_DENIED'
        : 'LAUNCH_FAILED';
  // the shim's exec messages already start with their step, as runc's do (`exec: "x": …`)
  const what = f.message.startsWith(`${f.step}: `) ? f.message : `${f.step}: ${f.message}`;
  return new BerthError(code, `container ${id}: ${what}`, {
    input: { field: f.step },
    cause: f,
  });
}

/**
 * One request on the control socket; resolves with the reply line, or undefined on EOF. The short
 * requests go through the addon's `controlAsync` (one pool-thread job: connect, write, read a
 * line): a node:net socket costs ~6 ms of CPU the first time in a process (its socket and stream
 * code compiled on first use), on every `run`. `wait`, answered only when the container exits,
 * keeps a socket: a pool thread must not wait that long.
 */
async function control(
  path: string,
  request: string,
  signal?: AbortSignal,
): Promise<ControlReply | undefined> {
  const sys = loadAddon();
  if (request === 'wait' || typeof sys.controlAsync !== 'function')
    return controlSocket(path, request, signal);
  signal?.throwIfAborted();
  const line = await untilAborted(sys.controlAsync(path, `${request}\n`), signal);
  if (typeof line === 'number') throw errnoError(line, `connect ${path}`);
  return line === null ? undefined : (parseShimMessage(line) as ControlReply);
}

/** {@link control} over a node:net socket. */
function controlSocket(
  path: string,
  request: string,
  signal?: AbortSignal,
): Promise<ControlReply | undefined> {
  return new Promise((resolveReply, reject) => {
    const sock = connectSocket(path);
    let data = '';
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      fn();
    };
    const onAbort = () => finish(() => reject(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${request}\n`));
    sock.on('data', (chunk: string) => {
      data += chunk;
      const nl = data.indexOf('\n');
      if (nl >= 0) {
        const line = data.slice(0, nl);
        finish(() => {
          try {
            resolveReply(parseShimMessage(line) as ControlReply);
          } catch (err) {
            reject(err);
          }
        });
      }
    });
    sock.on('error', (err) => finish(() => reject(err)));
    sock.on('close', () => finish(() => resolveReply(undefined)));
  });
}

async function resizeAt(path: string, id: string, size: { rows: number; cols: number }): Promise<void> {
  for (const [k, v] of Object.entries(size))
    if (!Number.isInteger(v) || v < 0 || v > 65535)
      throw new BerthError('INVALID_SIZE', `${id}: resize: ${k} ${v} is not in 0..65535`, {
        input: { field: k },
      });
  let reply: ControlReply | undefined;
  try {
    reply = await control(path, `resize ${size.rows} ${size.cols}`);
  } catch (err) {
    throw new BerthError('CONTAINER_NOT_RUNNING', `${id}: its shim is not reachable`, { cause: err });
  }
  if (reply?.type === 'ok') return;
  throw new BerthError(
    'CONTAINER_NOT_RUNNING',
    `${id}: resize: ${reply?.type === 'error' ? reply.message : 'no reply'}`,
  );
}

/** Hybrid cgroups: v1 controllers plus a v2 mount at /sys/fs/cgroup/unified. */
/** Whether the spec asks for a new network namespace (not joined, not the host's). */
function newNetNamespace(spec: Spec): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === 'network' && !n.path);
}

/** `ip link set lo up` in a process's network namespace (another OCI runtime created it). */
function loopbackUp(pid: number): Promise<void> {
  const { spawn } = childProcess();
  return new Promise((resolveUp, reject) => {
    const child = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'ip', 'link', 'set', 'lo', 'up'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolveUp()
        : reject(
            new BerthError('LAUNCH_FAILED', `bring lo up in pid ${pid}: ${stderr.trim() || `exit ${code}`}`),
          ),
    );
  });
}

function hybridCgroups(): boolean {
  return existsSync('/sys/fs/cgroup/unified/cgroup.controllers');
}

function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') {
    if (!Number.isInteger(sig) || sig < 1 || sig > 64)
      throw new BerthError('INVALID_SIGNAL', `signal ${sig}: not a signal number`);
    return sig;
  }
  const n = (osConstants.signals as Record<string, number>)[sig];
  if (n === undefined)
    throw new BerthError('INVALID_SIGNAL', `signal ${sig}: unknown`, { input: { field: 'signal' } });
  return n;
}

/** {@link Runtime.delete} calls under way in this process (every runtime instance's). */
let deleting = 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

class ShimRuntime implements Runtime {
  private shimPath: Promise<string> | undefined;
  /** Compiled filters by section: docker's default differs only by caps, so hits are the rule. */
  private readonly seccompCache = new Map<string, Uint8Array>();
  /** `opts.root` resolved once: path.resolve/join cost ~20 µs a call in a fresh process. */
  private readonly root: string;
  constructor(private readonly opts: RuntimeOptions) {
    this.root = resolve(opts.root);
  }

  /** In memory, then from the cache beside the containers (`<root>/.seccomp`), else compiled. */
  private async seccompProgram(s: LinuxSeccomp): Promise<Uint8Array> {
    const key = seccompCacheKey(s);
    let bytes = this.seccompCache.get(key);
    if (!bytes) {
      bytes = await cachedSeccomp(childPath(this.root, '.seccomp'), s, key);
      const oldest = this.seccompCache.keys().next();
      if (this.seccompCache.size >= 16 && !oldest.done) this.seccompCache.delete(oldest.value);
      this.seccompCache.set(key, bytes);
    }
    return bytes;
  }

  private shim(): Promise<string> {
    this.shimPath ??= this.opts.shim
      ? Promise.resolve(this.opts.shim)
      : locateShim(this.opts.shimSearch ?? {});
    return this.shimPath;
  }

  private dir(id: string): string {
    if (!ID_RE.test(id))
      throw new BerthError('INVALID_CONTAINER_ID', `container id "${id}": must match ${ID_RE.source}`, {
        input: { field: 'id' },
      });
    // the id matched ID_RE (no slash, no dot-only name): a plain concatenation is the join
    return childPath(this.root, id);
  }

  private async record(id: string): Promise<StateRecord> {
    const file = childPath(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new BerthError('CONTAINER_NOT_FOUND', `container ${id}: not found`, {
          input: { field: 'id' },
          cause: err,
        });
      throw err;
    }
    let rec: StateRecord;
    try {
      rec = JSON.parse(text) as StateRecord;
    } catch (cause) {
      // written temp-then-rename without fsync (it names this boot's processes, worthless after a
      // reboot): only a power loss tears it, and then the shim is gone too
      throw new BerthError('CONTAINER_NOT_FOUND', `container ${id}: state.json is unreadable`, { cause });
    }
    if (rec.version !== 1)
      throw new BerthError('CONTAINER_NOT_FOUND', `container ${id}: state.json version ${rec.version}`);
    return rec;
  }

  private async exitRecord(id: string): Promise<ExitRecord | undefined> {
    const file = childPath(this.dir(id), 'exit');
    try {
      return parseExitRecord(readFileSync(file, 'utf8'), file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  create(id: string, bundleDir: string, opts: CreateOptions = {}): Promise<ContainerState> {
    return this.launchNew(id, bundleDir, opts, 'wait');
  }

  run(id: string, bundleDir: string, opts: CreateOptions = {}): Promise<ContainerState> {
    return this.launchNew(id, bundleDir, opts, 'now');
  }

  /** create() (`start` wait: the process waits for start()) and run() (now). */
  private async launchNew(
    id: string,
    bundleDir: string,
    opts: CreateOptions,
    start: 'now' | 'wait',
  ): Promise<ContainerState> {
    const dir = this.dir(id);
    const bundle = resolve(bundleDir);
    let spec: Spec;
    try {
      spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
    } catch (err) {
      throw new BerthError('BUNDLE_INVALID', `bundle ${bundle}: config.json: ${(err as Error).message}`, {
        input: { file: join(bundle, 'config.json'), line: 1 },
        cause: err,
      });
    }
    if (typeof spec !== 'object' || spec === null || typeof spec.process !== 'object')
      throw new BerthError('BUNDLE_INVALID', `bundle ${bundle}: config.json: no process`, {
        input: { field: 'process' },
      });
    const oci = this.opts.ociRuntime;
    // with another OCI runtime, it creates (and deletes) the cgroup itself; when the spec names
    // its path, berth still reads and freezes that cgroup (stats, pause), as docker does beside runc
    const cgroupPath =
      this.opts.cgroups && (!oci || spec.linux?.cgroupsPath) ? containerCgroupPath(id, spec) : undefined;
    const ownCgroup = !oci && cgroupPath !== undefined;
    const stdio = opts.stdio ?? 'log';
    // another runtime's container brings lo up from here, once it exists
    const ociLoopback = oci !== undefined && opts.loopback === true && newNetNamespace(spec);
    const logPath = stdio === 'log' ? childPath(dir, `${id}-json.log`) : undefined;
    const common = {
      id,
      stdio,
      ...(opts.openStdin ? { openStdin: true } : {}),
      ...(logPath ? { log: { path: logPath, ...opts.log } } : {}),
      exitFile: childPath(dir, 'exit'),
      ...(opts.durableExit === false ? { exitFileSync: false } : {}),
      controlSocket: childPath(dir, 'control.sock'),
      start,
      syncFd: 3,
      // nothing to do between the clone and the setup: no `continue` to wait for
      ...(opts.onCreated || ociLoopback ? {} : { syncContinue: false }),
      daemonize: true,
      shimLog: childPath(dir, 'shim.log'),
      ...(opts.hooks ? { hooks: opts.hooks } : {}),
    } as const;
    const cg = this.opts.cgroups;
    let desc: LaunchDescription;
    if (oci) {
      desc = {
        ...common,
        // the runtime's `--pid-file`, which berth-shim reads back; berth-shim's own launch needs
        // none (the `created` message and state.json carry the pid), so it makes no file for it
        pidFile: childPath(dir, 'init.pid'),
        ...(spec.process.terminal ? { terminal: true } : {}),
        ociRuntime: {
          path: oci.path,
          root: oci.root ?? childPath(this.root, `.oci-${basename(oci.path)}`),
          bundle,
          log: childPath(dir, 'oci-runtime.log'),
          hideCgroup2: oci.hideCgroup2 ?? (basename(oci.path) === 'crun' && hybridCgroups()),
        },
      };
    } else {
      const seccomp =
        opts.seccomp ?? (spec.linux?.seccomp ? await this.seccompProgram(spec.linux.seccomp) : undefined);
      desc = launchFromSpec(spec, { ...common, bundleDir: bundle, ...(seccomp ? { seccomp } : {}) });
      if (opts.loopback && newNetNamespace(spec)) desc = { ...desc, loopback: true };
      // the shim places the init in its cgroup directories itself (native/cgjoin.h): no pid
      // write from here, which waited an RCU grace period (~15-20 ms) per container
      if (cg && cgroupPath) desc = { ...desc, cgroups: cg.directories(cgroupPath) };
    }
    const text = encodeLaunch(desc);
    const shim = await this.shim();
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new BerthError('CONTAINER_EXISTS', `container ${id}: already exists`, {
          input: { field: 'id' },
          cause: err,
        });
      throw err;
    }
    if (ociLoopback) {
      const then = opts.onCreated;
      opts = {
        ...opts,
        onCreated: async (info) => {
          await loopbackUp(info.pid);
          await then?.(info);
        },
      };
    }
    try {
      // resources first, then the process: it never runs unconstrained. runc's allowed devices
      // come after the spec's rules (mknod, /dev/ptmx, /dev/pts/N, tun)
      if (cg && cgroupPath && ownCgroup)
        await cg.create(
          cgroupPath,
          withAllowedDevices(spec.linux?.resources),
          opts.signal ? { signal: opts.signal } : {},
        );
      return await this.launch(id, dir, bundle, text, shim, stdio, logPath, opts, cgroupPath, start);
    } catch (err) {
      if (cg && cgroupPath && ownCgroup) await cg.destroy(cgroupPath, { force: true }).catch(() => {});
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
      throw err;
    }
  }

  private async launch(
    id: string,
    dir: string,
    bundle: string,
    text: string,
    shim: string,
    stdio: 'log' | 'null' | 'inherit',
    logPath: string | undefined,
    opts: CreateOptions,
    cgroupPath: string | undefined,
    start: 'now' | 'wait',
  ): Promise<ContainerState> {
    const launchPath = childPath(dir, 'launch');
    // read by the shim at once and useless after a reboot: atomic, not durable
    await writeFileReplace(launchPath, text);
    // the addon's posix_spawn: no fork of this process, no child_process or net streams
    const io = stdio === 'inherit' ? 0 : -1;
    const chan = spawnShim(shim, [launchPath], io, stdio === 'inherit' ? 1 : -1);
    const next = async (): Promise<ReturnType<typeof parseShimMessage> | undefined> => {
      const line = await chan.next(opts.signal);
      return line === undefined ? undefined : parseShimMessage(line);
    };
    const shimGone = (): BerthError => {
      const errText = chan.stderr();
      return new BerthError(
        'LAUNCH_FAILED',
        `container ${id}: berth-shim ended without a word${errText ? `: ${errText.trim()}` : ''}`,
      );
    };
    // after an error the shim still records its exit and removes its socket: wait for it to
    // close the sync fd (it exits) before the caller removes the directory
    const shimExited = async () => {
      while ((await chan.next().catch(() => undefined)) !== undefined);
    };
    try {
      let msg = await next();
      if (msg?.type === 'error') {
        await shimExited();
        throw failureError(msg, id);
      }
      if (msg?.type !== 'created') throw shimGone();
      const { pid, shimPid } = msg;
      // without onCreated the shim did not wait (launch key sync.continue=0)
      if (opts.onCreated) {
        try {
          await opts.onCreated({ id, pid });
        } catch (err) {
          chan.send('abort');
          await shimExited();
          throw err;
        }
        chan.send('continue');
      }
      // recorded while the shim sets the container up (off the launch's path): from here on a
      // crash of this process leaves a container the runtime knows, not a shim no record names
      // (a failed launch removes the directory, record and all). Not `started` yet: nothing may
      // exec into a container whose root is still being set up
      const rec: StateRecord = {
        version: 1,
        id,
        bundle,
        pid,
        shimPid,
        started: false,
        createdAt: isoTime(Date.now()),
        ...(logPath ? { logPath } : {}),
        ...(cgroupPath ? { cgroupPath } : {}),
        ...(bootId() ? { bootId: bootId() } : {}),
      };
      await writeFileReplace(childPath(dir, 'state.json'), `${JSON.stringify(rec)}\n`);
      msg = await next();
      if (msg?.type === 'error') {
        await shimExited();
        throw failureError(msg, id);
      }
      if (msg?.type !== (start === 'now' ? 'started' : 'ready')) throw shimGone();
      if (start === 'now') {
        rec.started = true;
        await writeFileReplace(childPath(dir, 'state.json'), `${JSON.stringify(rec)}\n`);
      }
      this.opts.logger?.debug(start === 'now' ? 'container started' : 'container created', {
        id,
        pid,
        shimPid,
      });
      return this.toState(rec, dir, undefined, start === 'now' ? 'running' : 'created');
    } finally {
      // the shim carries on alone; nothing here may keep this process alive
      chan.close();
    }
  }

  private toState(
    rec: StateRecord,
    dir: string,
    exit: ExitResult | undefined,
    status: ContainerStatus,
  ): ContainerState {
    return {
      id: rec.id,
      status,
      pid: rec.pid,
      shimPid: rec.shimPid,
      bundle: rec.bundle,
      dir,
      createdAt: rec.createdAt,
      ...(rec.logPath ? { logPath: rec.logPath } : {}),
      ...(exit ? { exit } : {}),
      ...(rec.cgroupPath ? { cgroupPath: rec.cgroupPath } : {}),
    };
  }

  /** The exit record with the cgroup's OOM verdict; read before delete removes the cgroup. */
  private async exitResult(rec: StateRecord, exit: ExitRecord): Promise<ExitResult> {
    const cg = this.opts.cgroups;
    if (!cg || !rec.cgroupPath) return { ...exit, oomKilled: false };
    const oom = await cg.oomEvents(rec.cgroupPath).catch(() => undefined);
    return { ...exit, oomKilled: (oom?.oomKill ?? 0) > 0 };
  }

  private cgroupOf(rec: StateRecord): { cg: CgroupDriver; path: string } {
    if (!this.opts.cgroups || !rec.cgroupPath)
      throw new BerthError(
        'CGROUP_UNSUPPORTED',
        `container ${rec.id}: has no cgroup (the runtime has no cgroup driver)`,
      );
    return { cg: this.opts.cgroups, path: rec.cgroupPath };
  }

  async pause(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const st = await this.state(id);
    if (st.status !== 'running')
      throw new BerthError('CONTAINER_NOT_RUNNING', `container ${id}: is ${st.status}, not running`);
    const { cg, path } = this.cgroupOf(await this.record(id));
    await cg.freeze(path, opts);
  }

  async resume(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const st = await this.state(id);
    if (st.status !== 'paused')
      throw new BerthError('CONTAINER_NOT_RUNNING', `container ${id}: is ${st.status}, not paused`);
    const { cg, path } = this.cgroupOf(await this.record(id));
    await cg.thaw(path, opts);
  }

  async stats(id: string): Promise<ContainerStats> {
    const rec = await this.record(id);
    const { cg, path } = this.cgroupOf(rec);
    const [s, networks] = await Promise.all([
      cg.stats(path),
      rec.started && alive(rec.shimPid) ? networkStats(rec.pid) : undefined,
    ]);
    return networks ? { ...s, networks } : s;
  }

  async processes(id: string): Promise<number[]> {
    const st = await this.state(id);
    if (st.status === 'stopped') return [];
    if (st.cgroupPath && this.opts.cgroups) {
      const pids = await this.opts.cgroups.pids(st.cgroupPath).catch(() => [] as number[]);
      if (pids.length > 0) return pids.sort((a, b) => a - b);
    }
    return pidNamespaceMembers(st.pid);
  }

  async start(id: string, opts: { signal?: AbortSignal } = {}): Promise<ContainerState> {
    const rec = await this.record(id);
    const dir = this.dir(id);
    let reply: ControlReply | undefined;
    try {
      reply = await control(childPath(dir, 'control.sock'), 'start', opts.signal);
    } catch (err) {
      if (isBerthError(err)) throw err;
      throw new BerthError('CONTAINER_NOT_RUNNING', `container ${id}: its shim is not reachable`, {
        cause: err,
      });
    }
    if (reply?.type === 'error') {
      if (reply.step === 'start')
        throw new BerthError('CONTAINER_NOT_RUNNING', `container ${id}: ${reply.message}`);
      throw failureError(reply, id);
    }
    if (reply?.type !== 'started') throw new BerthError('SHIM_DIED', `container ${id}: no reply to start`);
    rec.started = true;
    await writeFileReplace(childPath(dir, 'state.json'), `${JSON.stringify(rec)}\n`);
    return this.toState(rec, dir, undefined, 'running');
  }

  async kill(id: string, signal: NodeJS.Signals | number = 'SIGTERM'): Promise<void> {
    const n = signalNumber(signal);
    await this.record(id);
    let reply: ControlReply | undefined;
    try {
      reply = await control(childPath(this.dir(id), 'control.sock'), `kill ${n}`);
    } catch (err) {
      throw new BerthError('CONTAINER_NOT_RUNNING', `container ${id}: not running`, { cause: err });
    }
    if (reply?.type === 'ok') return;
    throw new BerthError(
      'CONTAINER_NOT_RUNNING',
      `container ${id}: ${reply?.type === 'error' ? reply.message : 'not running'}`,
    );
  }

  async wait(id: string, opts: { signal?: AbortSignal } = {}): Promise<ExitResult> {
    const rec = await this.record(id);
    for (;;) {
      opts.signal?.throwIfAborted();
      const exit = await this.exitRecord(id);
      if (exit) return this.exitResult(rec, exit);
      let reply: ControlReply | undefined;
      try {
        reply = await control(childPath(this.dir(id), 'control.sock'), 'wait', opts.signal);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        reply = undefined;
      }
      if (reply?.type === 'exited') continue;
      const after = await this.exitRecord(id);
      if (after) return this.exitResult(rec, after);
      if (!shimAlive(rec))
        throw new BerthError(
          'SHIM_DIED',
          `container ${id}: berth-shim ${rec.shimPid} is gone and recorded no exit`,
        );
      // the shim is alive but refused us (its 8 connections are busy): try again shortly
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async state(id: string): Promise<ContainerState> {
    const rec = await this.record(id);
    const dir = this.dir(id);
    const exit = await this.exitRecord(id);
    if (exit) return this.toState(rec, dir, await this.exitResult(rec, exit), 'stopped');
    const live = shimAlive(rec);
    if (!live) return this.toState(rec, dir, undefined, 'stopped');
    if (rec.started && rec.cgroupPath && this.opts.cgroups) {
      const fz = await this.opts.cgroups.freezerState(rec.cgroupPath).catch(() => 'thawed');
      if (fz !== 'thawed') return this.toState(rec, dir, undefined, 'paused');
    }
    return this.toState(rec, dir, undefined, rec.started ? 'running' : 'created');
  }

  async attach(id: string, opts: AttachOptions): Promise<AttachHandle> {
    const st = await this.state(id);
    if (st.status === 'stopped') throw new BerthError('CONTAINER_NOT_RUNNING', `container ${id}: has exited`);
    return attachSocket(join(st.dir, 'control.sock'), id, opts, (size) => this.resize(id, size));
  }

  async resize(id: string, size: { rows: number; cols: number }): Promise<void> {
    await this.record(id);
    await resizeAt(childPath(this.dir(id), 'control.sock'), id, size);
  }

  async exec(id: string, opts: ExecOptions): Promise<ExecResult> {
    const st = await this.state(id);
    if (st.status !== 'running')
      throw new BerthError('CONTAINER_NOT_RUNNING', `container ${id}: is ${st.status}, not running`);
    let spec: Spec;
    try {
      spec = JSON.parse(await readFile(join(st.bundle, 'config.json'), 'utf8')) as Spec;
    } catch (err) {
      throw new BerthError('BUNDLE_INVALID', `bundle ${st.bundle}: config.json: ${(err as Error).message}`, {
        input: { file: join(st.bundle, 'config.json'), line: 1 },
        cause: err,
      });
    }
    const execId = `${id}.exec-${execSuffix()}`;
    const files = opts.user && !/^\d+(:\d+)?$/.test(opts.user) ? await readUserFiles(st.pid) : {};
    const seccomp =
      spec.linux?.seccomp && !opts.privileged ? await this.seccompProgram(spec.linux.seccomp) : undefined;
    const desc = execLaunch(spec, opts, {
      id: execId,
      pid: st.pid,
      files,
      ...(seccomp ? { seccomp } : {}),
      // short: the container's directory already takes 94 of sun_path's 107 bytes (a 28-byte
      // root, the 64-hex ID); control.sock is 12
      ...(opts.tty ? { controlSocket: join(st.dir, `e${execId.slice(-6)}.sock`) } : {}),
      shimLog: join(st.dir, 'shim.log'),
    });
    const cg = this.opts.cgroups;
    const cgroupPath = st.cgroupPath;
    // another OCI runtime made the container's cgroups: join the init's, hierarchy by hierarchy
    const onCreated = this.opts.ociRuntime
      ? (pid: number) => joinCgroupsOf(st.pid, pid)
      : cg && cgroupPath
        ? (pid: number) => cg.addProcess(cgroupPath, pid)
        : undefined;
    return runExec({
      shim: await this.shim(),
      dir: st.dir,
      containerId: id,
      desc,
      opts,
      ...(onCreated ? { onCreated } : {}),
      resize: (path, size) => resizeAt(path, execId, size),
    });
  }

  async delete(id: string, opts: { force?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    deleting++;
    try {
      await this.deleteOne(id, opts);
    } finally {
      deleting--;
    }
  }

  /**
   * Ends a container that is being removed: no exit hook (restart policy, --rm) for it, SIGKILL,
   * and back once berth-shim has recorded the exit. One `delete 9` request on the control socket
   * (one thread-pool job, answered at the exit; the exit's OOM verdict is not read, nobody asks
   * it of a removal); a shim that does not know the request (started by an older berth) gets
   * `hooks off`, `kill 9` and `wait` as before.
   */
  private async killForDelete(rec: StateRecord, dir: string, signal: AbortSignal | undefined): Promise<void> {
    const sock = childPath(dir, 'control.sock');
    const reply = await control(sock, 'delete 9', signal).catch((err: unknown) => {
      if (signal?.aborted) throw err;
      return undefined;
    });
    if (reply?.type === 'exited') return;
    if (reply?.type === 'error' && reply.step === 'control') {
      await control(sock, 'hooks off').catch(() => undefined);
      await this.kill(rec.id, 'SIGKILL').catch((err) => {
        if (!isBerthError(err, 'CONTAINER_NOT_RUNNING')) throw err;
      });
    }
    // no answer (the shim went away meanwhile, or its 16 connections are busy): what wait says
    await this.wait(rec.id, signal ? { signal } : {});
  }

  private async deleteOne(id: string, opts: { force?: boolean; signal?: AbortSignal }): Promise<void> {
    // what state() reads, once: the record, the exit file, the shim's pid
    const rec = await this.record(id);
    const dir = this.dir(id);
    if (!(await this.exitRecord(id)) && shimAlive(rec)) {
      if (!opts.force) {
        const st = await this.state(id);
        if (st.status !== 'stopped')
          throw new BerthError('CONTAINER_RUNNING', `container ${id}: is ${st.status}; stop it or force`);
      } else {
        // a frozen process cannot die: thaw it first
        if (rec.started && rec.cgroupPath && this.opts.cgroups) {
          const fz = await this.opts.cgroups.freezerState(rec.cgroupPath).catch(() => 'thawed');
          if (fz !== 'thawed') await this.opts.cgroups.thaw(rec.cgroupPath, opts);
        }
        await this.killForDelete(rec, dir, opts.signal);
      }
    }
    if (rec.cgroupPath && this.opts.cgroups)
      await this.opts.cgroups.destroy(rec.cgroupPath, {
        ...(opts.force ? { force: true } : {}),
        ...(deleting > 1 ? { concurrent: true } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    // a handful of small files: removed synchronously when this is the only deletion under way
    // (each async step is a thread-pool hop); beside others (`rm -f` of many) on the pool,
    // where their unlinks and rmdirs overlap instead of queueing on this thread
    await removeTree(dir, deleting <= 1 ? REMOVE_TREE_SYNC_BUDGET : 0, syscallFsCalls);
  }
}

/**
 * Creates a {@link Runtime} keeping its containers under `root`.
 *
 * @example
 * ```ts
 * const rt = createRuntime({ root: '/run/berth/runtime' });
 * await rt.create('c1', '/path/to/bundle');
 * await rt.start('c1');
 * const { exitCode } = await rt.wait('c1');
 * await rt.delete('c1');
 * ```
 */
export function createRuntime(opts: RuntimeOptions): Runtime {
  return new ShimRuntime(opts);
}
