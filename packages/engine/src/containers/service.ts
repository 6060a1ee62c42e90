/**
 * The container service: create, start, stop, kill, restart, remove, wait, list, inspect, logs,
 * rename and prune, with no daemon. Every state change happens under the container's lock
 * (`containers/<id>/lock`, flock), so several `berth` processes acting on one container at once
 * see one order of events. The runtime's truth (berth-shim alive, its exit file) is merged into
 * the record on every read, so a container whose process ended while nobody watched shows as
 * exited with its code; the next command that changes it persists that and cleans up (unmounts
 * its root, removes its cgroup, archives its log).
 */
import {
  closeSync,
  existsSync,
  constants as fsConstants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { appendFile, chmod, copyFile, readFile, rename, rm, stat } from 'node:fs/promises';
import { cpus, constants as osConstants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import {
  BerthError,
  chainIds,
  type ContainerConfig as ImageContainerConfig,
  isBerthError,
  isoTimeNano,
  parseImageConfig,
  REMOVE_TREE_SYNC_BUDGET,
  randomBytes,
  removeTree,
  type Spec,
} from '@berth/oci';
import type { Snapshotter } from '@berth/overlay';
import {
  boundingCapabilities,
  buildSpec,
  type CgroupDriver,
  type CreateOptions,
  createCgroupDriver,
  createRuntime,
  dockerResources,
  type FileLock,
  idmapLayers,
  locateInit,
  lockDir,
  type Runtime,
  type ContainerState as RuntimeState,
  releaseIdmapLayers,
  type ShimHooks,
  syscallFsCalls,
  withInit,
} from '@berth/runtime';
import type { EngineContext } from '../context.js';
import { getImage } from '../images.js';
import { pullImage } from '../pull.js';
import {
  applyTerminal,
  attachRecord,
  type ContainerAttachment,
  type ContainerAttachOptions,
  checkAttachable,
  checkDetachKeys,
  type TerminalSize,
} from './attach.js';
import { type ContainerChange, containerChanges } from './changes.js';
import { type CommitOptions, commitContainer } from './commit.js';
import { ContainerErrorCode, invalidOption, noSuchContainer } from './errors.js';
import { appendEvent, type EventInput, readEvents, sleep } from './events.js';
import { type ContainerExecOptions, type ContainerExecResult, checkExecutable, execRecord } from './exec.js';
import type { ExportOptions } from './export.js';
import {
  applyProbe,
  clearHealth,
  healthTimings,
  initialHealth,
  mergeHealthcheck,
  probeArgs,
  readHealth,
  writeHealth,
} from './health.js';
import type { ServiceInternals } from './internals.js';
import { readLog } from './logs.js';
import { mountAll, unmount, unmountIfMounted } from './mounts.js';
import { pauseContainer, unpauseContainer } from './pause.js';
import { durableRecord, RECORD_VERSION, RecordStore, writeNewFile } from './record.js';
import { restartDecision, startsAtBoot } from './restart.js';
import { DEFAULT_RUNTIME, findRuntime, OCI_RUNTIMES, runtimeSearchPath } from './runtimes.js';
import { type ContainerStatsResponse, containerStats } from './stats.js';
import { statusText, ZERO_TIME } from './status.js';
import { type ContainerTop, topContainer } from './top.js';
import type {
  ContainerConfig,
  ContainerInspect,
  ContainerPruneReport,
  ContainerRecord,
  ContainerStateInfo,
  ContainerSummary,
  CreateContainerOptions,
  HealthLogEntry,
  HostConfig,
  ListContainersOptions,
  LogEntry,
  LogsOptions,
  WaitResult,
} from './types.js';
import { parseRamBytes, parseRestartPolicy, parseSignal, parseTimestamp, parseUlimit } from './units.js';
import { allocateAuto, type IdMappings, parseUserns, releaseAuto } from './userns.js';
import { volatileMounts } from './volatile.js';

/** Container operations, docker's semantics. References are full IDs, names or unique ID prefixes. */
export interface ContainerService {
  /**
   * `docker create`: resolves (or pulls) the image, prepares the container's root snapshot and
   * writes its record. Nothing runs yet.
   * @throws BerthError IMAGE_NOT_FOUND, CONTAINER_NAME_CONFLICT, INVALID_OPTION, NO_COMMAND
   */
  create(options: CreateContainerOptions): Promise<{ Id: string; Name: string; Warnings: string[] }>;
  /**
   * Starts a created or stopped container (a running one is left alone). Mounts its root, builds
   * the OCI spec, launches berth-shim and returns once the process runs.
   * @throws BerthError CONTAINER_NOT_FOUND, EXEC_NOT_FOUND (127), EXEC_PERMISSION_DENIED (126), LAUNCH_FAILED
   */
  start(ref: string, options?: StartOptions): Promise<void>;
  /** Stop signal, then SIGKILL after `timeout` seconds (default the container's, else 10; -1 waits forever). */
  stop(ref: string, options?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
  /**
   * Sends a signal (default SIGKILL).
   * @throws BerthError CONTAINER_NOT_RUNNING (docker: `Container … is not running`)
   */
  kill(ref: string, options?: { signal?: string }): Promise<void>;
  /** stop, then start. */
  restart(ref: string, options?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
  /**
   * Removes a container: its shim, cgroup, root mount, snapshot, directory and name. A running
   * one needs `force`. `volumes` is accepted for docker's `-v` (no anonymous volumes yet).
   * @throws BerthError CONTAINER_NOT_FOUND, CONTAINER_RUNNING
   */
  remove(ref: string, options?: { force?: boolean; volumes?: boolean; signal?: AbortSignal }): Promise<void>;
  /**
   * Waits until the container is not running; its exit code. `settle: false` leaves the cleanup
   * (unmount, cgroup, shim state) to the caller's next step. `remove` then removes the container
   * (`run --rm`, as docker's client waits for `removed`): the exit is read under the removal's
   * own lock, so a container that has exited already is read once, not by a wait and again by
   * the removal. @throws BerthError what {@link remove} throws, with `remove`
   */
  wait(
    ref: string,
    options?: { settle?: boolean; remove?: boolean; signal?: AbortSignal },
  ): Promise<WaitResult>;
  /** `docker ps`. */
  list(options?: ListContainersOptions): Promise<ContainerSummary[]>;
  /** docker's `ContainerInspect`. */
  inspect(ref: string, options?: { size?: boolean; signal?: AbortSignal }): Promise<ContainerInspect>;
  /** Log entries (json-file); with `follow`, until the container stops. */
  logs(ref: string, options?: LogsOptions): Promise<AsyncIterable<LogEntry>>;
  /** Renames a container. @throws CONTAINER_NAME_CONFLICT */
  rename(ref: string, newName: string): Promise<void>;
  /** Removes every stopped container. */
  prune(options?: { signal?: AbortSignal }): Promise<ContainerPruneReport>;
  /** `docker pause`: freezes every process. @throws CONTAINER_NOT_RUNNING, CONTAINER_PAUSED */
  pause(ref: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** `docker unpause`. @throws CONTAINER_NOT_PAUSED */
  unpause(ref: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** `docker top`: the host's `ps psArgs` (default `-ef`) rows of the container's processes. @throws CONTAINER_NOT_RUNNING, PS_FAILED */
  top(ref: string, options?: { psArgs?: string; signal?: AbortSignal }): Promise<ContainerTop>;
  /**
   * One sample of a container's usage, the Engine API's stats shape (take two for rates);
   * docker's empty sample when it is not running. @throws CONTAINER_NOT_FOUND
   */
  stats(ref: string): Promise<ContainerStatsResponse>;
  /** `docker diff`: the filesystem changes against the image (Kind 0 changed, 1 added, 2 deleted). */
  changes(ref: string): Promise<ContainerChange[]>;
  /** `docker export`: a tar of the root filesystem written to `output`. */
  export(ref: string, options: ExportOptions): Promise<void>;
  /**
   * `docker commit`: a new image of the image's layers plus the container's changes; its ID.
   * @throws INVALID_OPTION (a bad `--change`), INVALID_REFERENCE
   */
  commit(ref: string, options?: CommitOptions): Promise<string>;
  /** The full ID of a reference. @throws CONTAINER_NOT_FOUND, CONTAINER_AMBIGUOUS */
  resolve(ref: string): Promise<string>;
  /** Whether any container uses the image (rmi, prune). */
  usesImage(imageId: string): Promise<boolean>;
  /**
   * `docker attach`: the running container's output from now on, the caller's input to its
   * terminal or stdin pipe (containers/attach.ts).
   * @throws BerthError CONTAINER_NOT_RUNNING (stopped, paused, restarting), INVALID_DETACH_KEYS
   */
  attach(ref: string, options: ContainerAttachOptions): Promise<ContainerAttachment>;
  /**
   * start, attached before the process runs (docker run without -d, start -a): the output from
   * its first byte. `consoleSize` is the terminal's size of a `-t` container.
   * @throws BerthError as start, INVALID_DETACH_KEYS
   */
  startAttached(ref: string, options: ContainerAttachOptions): Promise<ContainerAttachment>;
  /** Sets a `-t` container's window size. @throws BerthError CONTAINER_NOT_RUNNING */
  resize(ref: string, size: TerminalSize): Promise<void>;
  /**
   * `docker exec`: a new process in the running container (containers/exec.ts).
   * @throws BerthError CONTAINER_NOT_RUNNING, EXEC_NOT_FOUND (127), EXEC_PERMISSION_DENIED (126)
   */
  exec(ref: string, options: ContainerExecOptions): Promise<ContainerExecResult>;
  /**
   * The exit hook's work (berth-shim runs `berth container cleanup ID` once it has recorded an
   * exit): persists the exit (the `die` event), applies `--rm`, and applies the restart policy
   * with docker's backoff, state `restarting` meanwhile. A container someone else already
   * restarted or removed is left alone.
   */
  handleExit(ref: string, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * The health hook's work (berth-shim runs `berth container healthcheck ID` on the interval):
   * one probe as an exec, folded into `State.Health`; a status change is a `health_status`
   * event. Returns the state after the probe (undefined: no check, or not running).
   */
  healthcheck(ref: string, options?: { signal?: AbortSignal }): Promise<ContainerStateInfo['Health']>;
  /**
   * After a reboot (`berth system boot`, run by the systemd unit): settles containers whose
   * shim is gone, removes `--rm` ones, and starts those whose restart policy asks for it
   * (docker's daemon start). One container failing to start does not stop the others.
   */
  boot(options?: { signal?: AbortSignal }): Promise<BootReport>;
}

/** What {@link ContainerService.boot} did. */
export interface BootReport {
  /** IDs started. */
  started: string[];
  /** Those whose start failed, with the error's message. */
  failed: { id: string; error: string }[];
}

/** Options of {@link ContainerService.start}. */
export interface StartOptions {
  /**
   * The caller stays attached and settles the exit itself (a foreground `run`): the exit hook
   * is then only armed when a restart policy or `--rm` needs it.
   */
  attached?: boolean;
  signal?: AbortSignal;
}

/**
 * How berth-shim reaches the engine when no berth process is around: argv prefixes to which the
 * container's ID is appended (the CLI passes itself: `node cli.js container cleanup`).
 */
export interface ContainerHooks {
  /** Run once a container's exit is recorded: must end up calling {@link ContainerService.handleExit}. */
  exit: readonly string[];
  /** Run on the health interval: must end up calling {@link ContainerService.healthcheck}. */
  health: readonly string[];
  /** The hooks' environment (`NAME=value`); default the shim's. */
  env?: readonly string[];
  /** Their working directory; default /. */
  cwd?: string;
}

/** What the container service needs besides the image side's context. */
export interface ContainerServiceOptions {
  /** Directory of berth-shim's per-container state (must be short: unix socket paths). */
  shimRoot: string;
  /** berth-shim location: an explicit path and a PATH-style search list. */
  shim?: { path?: string; searchPath?: string };
  /** The shim's hooks; without them restart policies, detached `--rm` and health checks do not run. */
  hooks?: ContainerHooks;
}

const HOSTS_NONE = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff00::1\tip6-allnodes',
  'ff00::2\tip6-allrouters',
  '',
].join('\n');

/** A small host file's text, or `fallback` when it cannot be read (read synchronously: a
 * one-shot CLI does sequential work, and a promise read is four thread-pool round trips). */
function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function nowNano(): string {
  return isoTimeNano(Date.now());
}

function freshState(): ContainerStateInfo {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}

function exitedState(
  prev: ContainerStateInfo,
  code: number,
  finishedAt: string,
  oom: boolean,
  error = '',
): ContainerStateInfo {
  return {
    ...prev,
    Status: 'exited',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: oom,
    Pid: 0,
    ExitCode: code,
    Error: error,
    FinishedAt: finishedAt,
  };
}

/** A run that is (or, unpersisted, was) in progress: its end has not been recorded yet. */
function isActive(s: ContainerStateInfo): boolean {
  return s.Status === 'running' || s.Status === 'paused';
}

/** Go's time.Duration String for whole milliseconds: `1s`, `500ms`, `1m30s`. */
function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const m = Math.floor(ms / 60_000);
  const sec = (ms % 60_000) / 1000;
  return m ? `${m}m${sec}s` : `${sec}s`;
}

const ignoreNotFound = (err: unknown): undefined => {
  if (isBerthError(err, 'CONTAINER_NOT_FOUND')) return undefined;
  throw err;
};

/** Reads a regular file inside the container root without following a symlink out of it. */
/** Maps of the size `--userns=auto` asks for, to check the options before a range is taken. */
function autoStandIn(size: number): IdMappings {
  const m = [{ containerID: 0, hostID: 0, size }];
  return { uidMappings: m, gidMappings: m.map((x) => ({ ...x })) };
}

async function readRootFile(rootfs: string, rel: string[]): Promise<string> {
  let p = rootfs;
  for (const [i, part] of rel.entries()) {
    p = join(p, part);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return '';
    if (i < rel.length - 1 ? !st.isDirectory() : !st.isFile()) return '';
  }
  // synchronous (a few kB; two thread-pool round trips fewer each): opened without following a
  // symlink and without blocking on a FIFO, then checked again through the descriptor, so a file
  // swapped after the lstat is refused too
  let fd: number;
  try {
    fd = openSync(p, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch {
    return '';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > 4 * 1024 * 1024) return '';
    return readFileSync(fd, 'utf8');
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}

class Containers implements ContainerService {
  readonly records: RecordStore;
  private runtimeP: Promise<Runtime> | undefined;
  private cgroups: CgroupDriver | undefined;

  constructor(
    private readonly ctx: EngineContext,
    private readonly opts: ContainerServiceOptions,
  ) {
    this.records = new RecordStore(ctx.root);
  }

  private runtime(): Promise<Runtime> {
    this.runtimeP ??= (async () => {
      const made = [
        (await this.records.init()) ? this.records.dir : undefined,
        mkdirSync(this.opts.shimRoot, { recursive: true, mode: 0o711 }) === undefined
          ? undefined
          : this.opts.shimRoot,
      ];
      // each container's directories are independent trees: spread over block groups by ext4's
      // Orlov allocator (FS_TOPDIR_FL, as snapshots/), not packed into their parent's group,
      // which on an ext4 without a journal makes every create skip, one by one, the inodes freed
      // there in the last minute (`recently_deleted`: a root in a busy /tmp, or right after an
      // `rm -f` of many). Set when this process makes the directory, not checked on every open:
      // the check (two ioctls, ~0.04 ms in strace) measured ~3 ms more CPU per `run -d` in
      // interleaved A/B runs, not understood; an older root gets the flag with `chattr +T
      // containers shims`. Best effort: other file systems refuse it and nothing changes
      for (const d of made) if (d !== undefined) await syscallFsCalls.setTopDir(d).catch(() => {});
      this.cgroups = await createCgroupDriver({ logger: this.ctx.logger }).catch((err: unknown) => {
        this.ctx.logger.warn('no cgroups: containers run without resource limits', { err: String(err) });
        return undefined;
      });
      return createRuntime({
        root: this.opts.shimRoot,
        logger: this.ctx.logger,
        ...(this.cgroups ? { cgroups: this.cgroups } : {}),
        shimSearch: this.shimSearch(),
      });
    })();
    return this.runtimeP;
  }

  /** Where berth-shim is (`$BERTH_SHIM`, PATH), for the runtime, cgroups and idmapped mounts. */
  private shimSearch(): { shim?: string; searchPath?: string } {
    const shim = this.opts.shim ?? {};
    return {
      ...(shim.path ? { shim: shim.path } : {}),
      ...(shim.searchPath ? { searchPath: shim.searchPath } : {}),
    };
  }

  private readonly ociRuntimes = new Map<string, Promise<Runtime>>();

  /** runc or crun where installed (docker's `--runtime`), else undefined. */
  private ociRuntimePath(name: string): Promise<string | undefined> {
    if (!(OCI_RUNTIMES as readonly string[]).includes(name)) return Promise.resolve(undefined);
    return findRuntime(name, runtimeSearchPath(this.opts.shim?.searchPath ?? process.env.PATH));
  }

  /**
   * The runtime that creates a container's process: berth-shim's own, or one where berth-shim
   * hands the bundle to runc or crun. Everything after create (kill, wait, state, pause, stats,
   * delete) goes through berth-shim and the cgroup, whichever created it.
   */
  private async runtimeFor(rec: ContainerRecord): Promise<Runtime> {
    const name = rec.HostConfig.Runtime;
    const rt = await this.runtime();
    if (!name || name === DEFAULT_RUNTIME) return rt;
    let p = this.ociRuntimes.get(name);
    if (!p) {
      p = (async () => {
        const path = await this.ociRuntimePath(name);
        if (!path) throw invalidOption('runtime', `unknown or invalid runtime name: ${name}`);
        const shim = this.opts.shim ?? {};
        return createRuntime({
          root: this.opts.shimRoot,
          logger: this.ctx.logger,
          ...(this.cgroups ? { cgroups: this.cgroups } : {}),
          shimSearch: {
            ...(shim.path ? { shim: shim.path } : {}),
            ...(shim.searchPath ? { searchPath: shim.searchPath } : {}),
          },
          ociRuntime: { path },
        });
      })();
      p.catch(() => this.ociRuntimes.delete(name));
      this.ociRuntimes.set(name, p);
    }
    return p;
  }

  private dir(id: string): string {
    return this.records.containerDir(id);
  }

  /** The snapshotter, whether the context holds it or loads it on first use. */
  private async sn(): Promise<Snapshotter> {
    const s = (this.ctx as { snapshotter: Snapshotter | (() => Promise<Snapshotter>) }).snapshotter;
    return typeof s === 'function' ? s() : s;
  }

  private shimDir(id: string): string {
    return join(this.opts.shimRoot, id);
  }

  private async lock(id: string, signal?: AbortSignal): Promise<FileLock> {
    try {
      // flock(2) on the container's directory itself (DESIGN.md: the engine locks per object):
      // no lock file, one create less per container. A container made by an older berth still
      // has its `lock` file, which nothing takes any more (a berthd of an older version must be
      // restarted with the upgrade, as its locks would not see these)
      return await lockDir(this.dir(id), signal ? { signal } : {});
    } catch (err) {
      // the directory went away (removed meanwhile)
      if (!(await stat(this.dir(id)).catch(() => undefined))) throw noSuchContainer(id);
      throw err;
    }
  }

  /** Runs fn on the record under the lock; a record removed meanwhile is CONTAINER_NOT_FOUND. */
  private async locked<T>(
    ref: string,
    fn: (rec: ContainerRecord, rt: Runtime) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const rt = await this.runtime();
    const id = await this.records.resolve(ref);
    const l = await this.lock(id, signal);
    try {
      const rec = await this.records.read(id);
      if (!rec) throw noSuchContainer(ref);
      return await fn(rec, rt);
    } finally {
      await l.release();
    }
  }

  resolve(ref: string): Promise<string> {
    return this.runtime().then(() => this.records.resolve(ref));
  }

  /** What the command modules (pause.ts, top.ts, stats.ts, …) use. */
  private internals(): ServiceInternals {
    return {
      ctx: this.ctx,
      records: this.records,
      runtime: () => this.runtime(),
      liveState: (rt, rec) => this.liveState(rt, rec),
      locked: (ref, fn, signal) => this.locked(ref, fn, signal),
      read: async (ref) => {
        await this.runtime();
        const rec = await this.records.read(await this.records.resolve(ref));
        if (!rec) throw noSuchContainer(ref);
        return rec;
      },
      snapshotter: () => this.sn(),
      dir: (id) => this.dir(id),
      event: (rec, action, extra) => this.event(rec, action, extra),
    };
  }

  pause(ref: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return pauseContainer(this.internals(), ref, options.signal);
  }

  unpause(ref: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return unpauseContainer(this.internals(), ref, options.signal);
  }

  top(ref: string, options: { psArgs?: string; signal?: AbortSignal } = {}): Promise<ContainerTop> {
    return topContainer(this.internals(), ref, options);
  }

  stats(ref: string): Promise<ContainerStatsResponse> {
    return containerStats(this.internals(), ref);
  }

  changes(ref: string): Promise<ContainerChange[]> {
    return containerChanges(this.internals(), ref);
  }

  async export(ref: string, options: ExportOptions): Promise<void> {
    // tar-stream and streamx are initialised by the one command that uses them
    const { exportContainer } = await import('./export.js');
    return exportContainer(this.internals(), ref, options);
  }

  commit(ref: string, options: CommitOptions = {}): Promise<string> {
    return commitContainer(this.internals(), ref, options);
  }

  async usesImage(imageId: string): Promise<boolean> {
    await this.runtime();
    return (await this.records.list()).some((r) => r.Image === imageId);
  }

  // ---- state -------------------------------------------------------------------------------

  private async runtimeState(rt: Runtime, id: string): Promise<RuntimeState | undefined> {
    try {
      return await rt.state(id);
    } catch (err) {
      if (isBerthError(err, 'CONTAINER_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  /** Appends a container event (docker's attributes: labels, image, name, and `extra`). */
  private event(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): Promise<void> {
    return appendEvent(this.ctx.root, containerEvent(rec, action, extra));
  }

  /** The events of a run's end: `oom` when the OOM killer struck, then `die` with the code. */
  private async exitEvents(rec: ContainerRecord): Promise<void> {
    if (rec.State.OOMKilled) await this.event(rec, 'oom');
    await this.event(rec, 'die', { exitCode: String(rec.State.ExitCode) });
  }

  /** The record's state merged with the runtime's truth and the health hook's (no writes). */
  private async liveState(rt: Runtime, rec: ContainerRecord): Promise<ContainerStateInfo> {
    const s = await this.runState(rt, rec);
    if (!s.Running || !probeArgs(rec.Config.Healthcheck)) return s;
    return { ...s, Health: (await readHealth(this.dir(rec.Id))) ?? initialHealth() };
  }

  /** The record's state merged with the runtime's truth. */
  private async runState(rt: Runtime, rec: ContainerRecord): Promise<ContainerStateInfo> {
    const s = rec.State;
    // `restarting`: the exit hook waits out the backoff; no shim runs meanwhile
    if (s.Status !== 'running' && s.Status !== 'paused') return s;
    const st = await this.runtimeState(rt, rec.Id);
    if (!st)
      return exitedState(
        s,
        255,
        s.FinishedAt === ZERO_TIME ? nowNano() : s.FinishedAt,
        false,
        'berth-shim state is gone',
      );
    if (st.status === 'running')
      return { ...s, Status: 'running', Running: true, Paused: false, Pid: st.pid };
    if (st.status === 'paused') return { ...s, Status: 'paused', Running: true, Paused: true, Pid: st.pid };
    if (st.status === 'created') return { ...s, Status: 'created', Running: false, Pid: st.pid };
    if (st.exit) {
      const e = st.exit;
      return exitedState(s, e.exitCode, e.exitedAt, e.oomKilled, e.error ? e.error.message : '');
    }
    return exitedState(s, 255, nowNano(), false, 'berth-shim died without recording an exit');
  }

  /**
   * Under the lock: persists an ended run (state, log archive) and frees what it held (shim
   * directory, cgroup, root mount). Idempotent.
   */
  private async settle(rt: Runtime, rec: ContainerRecord): Promise<ContainerRecord> {
    const live = await this.liveState(rt, rec);
    if (live.Running || live.Status === 'created' || live.Status === 'restarting') {
      if (live !== rec.State && live.Status !== rec.State.Status) {
        rec.State = live;
      }
      return rec;
    }
    await this.persistExit(rec, live);
    await this.teardownRun(rt, rec);
    return rec;
  }

  /**
   * Records the end of a run in the record, once: the first process to see it writes it and
   * appends its `die` event (the caller holds the lock). The last health state stays.
   */
  private async persistExit(rec: ContainerRecord, live: ContainerStateInfo): Promise<void> {
    const ended = isActive(rec.State) && !live.Running;
    if (live === rec.State) return;
    rec.State = live;
    if (ended && probeArgs(rec.Config.Healthcheck)) {
      const h = await readHealth(this.dir(rec.Id));
      if (h) rec.State = { ...live, Health: h };
    }
    await this.records.write(rec);
    if (ended) await this.exitEvents(rec);
  }

  /** Archives the run's log, deletes the shim state and cgroup, unmounts the root. */
  private async teardownRun(rt: Runtime, rec: ContainerRecord): Promise<void> {
    const id = rec.Id;
    const shimDir = this.shimDir(id);
    if (existsSync(shimDir)) {
      await this.archiveLog(id);
      await rt.delete(id, { force: true }).catch(async (err: unknown) => {
        if (!isBerthError(err, 'CONTAINER_NOT_FOUND')) throw err;
        await rm(shimDir, { recursive: true, force: true });
      });
    }
    await this.unmountRoot(rec);
  }

  private async archiveLog(id: string): Promise<void> {
    const live = join(this.shimDir(id), `${id}-json.log`);
    const archive = join(this.dir(id), `${id}-json.log`);
    const parts: string[] = [];
    for (let n = 9; n >= 1; n--)
      if (await stat(`${live}.${n}`).catch(() => undefined)) parts.push(`${live}.${n}`);
    if (await stat(live).catch(() => undefined)) parts.push(live);
    for (const p of parts) {
      if (!(await stat(archive).catch(() => undefined))) {
        await rename(p, archive).catch(async () => copyFile(p, archive));
      } else {
        await appendFile(archive, await readFile(p));
      }
    }
  }

  /**
   * Unmounts the container's root, each mount stacked on it (umount2 until EINVAL: nothing is
   * mounted there), a busy one detached. No /proc/self/mountinfo read: with N containers running
   * it is N overlay lines the kernel formats on every read, twice per removal.
   */
  private async unmountRoot(rec: Pick<ContainerRecord, 'Id' | 'Spec'>): Promise<void> {
    const rootfs = join(this.dir(rec.Id), 'rootfs');
    // beside other removals (`rm -f` of many) on the thread pool: an overlay mounted without
    // `volatile` syncs its upper filesystem at unmount, and the syncs then overlap
    const pool = this.removing > 1;
    for (let n = 0; ; n++) {
      try {
        // false: not (or no longer) a mount point, or no directory at all
        if (await unmountIfMounted(rootfs, pool ? { pool } : {})) continue;
        break;
      } catch (err) {
        if (n >= 64) throw err;
      }
      await unmount(rootfs, { lazy: true });
    }
    // a user namespace's idmapped layers: before anything removes the directory recursively
    if (rec.Spec.idMappings) await releaseIdmapLayers(join(this.dir(rec.Id), 'idmap'));
  }

  /**
   * A container in a user namespace runs its setup as an unprivileged host uid, which must be
   * able to reach its rootfs and bind sources (runc's rule; docker makes /var/lib/docker 0711
   * with userns-remap): berth's own directories on the way get search permission for others.
   */
  private async reachableBy(dir: string): Promise<void> {
    const root = resolve(this.ctx.root);
    for (let d = resolve(dir); d.startsWith(`${root}/`) || d === root; d = dirname(d)) {
      const st = await stat(d);
      if ((st.mode & 0o001) === 0) await chmod(d, (st.mode & 0o7777) | 0o011);
      if (d === root) break;
    }
    // above berth's root is not berth's to change: say which directory stops it
    for (let d = dirname(root); ; d = dirname(d)) {
      const st = await stat(d);
      if ((st.mode & 0o001) === 0)
        throw new BerthError(
          ContainerErrorCode.USERNS_PATH_UNREACHABLE,
          `user namespace: the container's root cannot reach ${dir}: ${d} is not searchable by others (chmod o+x ${d}, as runc needs)`,
          { input: { field: 'uidmap' } },
        );
      if (d === '/') break;
    }
  }

  // ---- create --------------------------------------------------------------------------------

  async create(o: CreateContainerOptions): Promise<{ Id: string; Name: string; Warnings: string[] }> {
    await this.runtime();
    const signal = o.signal;
    // options first: bad input leaves nothing behind
    const restart = parseRestartPolicy(o.restart);
    if (o.autoRemove && restart.Name !== 'no')
      throw invalidOption('restart', 'Conflicting options: --restart and --rm');
    const network = o.network ?? 'none';
    if (network !== 'none' && network !== 'host')
      throw invalidOption(
        'network',
        `network ${network} not found (berth has "none" and "host" until bridge networks arrive)`,
      );
    const runtimeName = o.runtime ?? DEFAULT_RUNTIME;
    if (runtimeName !== DEFAULT_RUNTIME && !(await this.ociRuntimePath(runtimeName)))
      throw invalidOption('runtime', `unknown or invalid runtime name: ${runtimeName}`);
    const logOpts = { ...(o.logOpts ?? {}) };
    for (const [k, v] of Object.entries(logOpts)) {
      if (k === 'max-size') parseRamBytes(v, 'log-opt max-size');
      else if (k === 'max-file') {
        if (!/^[1-9]\d*$/.test(v)) throw invalidOption('log-opt', `max-file: invalid value ${v}`);
      } else throw invalidOption('log-opt', `unknown log opt '${k}' for json-file log driver`);
    }
    if (
      logOpts['max-file'] !== undefined &&
      Number(logOpts['max-file']) > 1 &&
      logOpts['max-size'] === undefined
    )
      throw invalidOption('log-opt', 'max-file cannot be set without max-size');
    const ulimits: Record<string, { soft: number; hard: number }> = {};
    for (const u of o.ulimits ?? []) {
      const p = parseUlimit(u);
      ulimits[p.name] = { soft: p.soft, hard: p.hard };
    }
    let seccomp: 'unconfined' | undefined;
    let noNewPrivs = false;
    for (const s of o.securityOpt ?? []) {
      const [k, v] = s.includes('=')
        ? [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]
        : s.split(':');
      if (k === 'seccomp' && v === 'unconfined') seccomp = 'unconfined';
      else if (k === 'no-new-privileges' && (v === undefined || v === 'true' || v === '')) noNewPrivs = true;
      else if (k === 'no-new-privileges' && v === 'false') noNewPrivs = false;
      else if (k === 'label' || k === 'apparmor') {
        // no SELinux or AppArmor on berth's hosts: accepted and recorded, as docker does without them
      } else throw invalidOption('security-opt', `invalid --security-opt: "${s}"`);
    }
    const securityOpt = [...(o.securityOpt ?? [])];
    if (noNewPrivs && !securityOpt.includes('no-new-privileges')) securityOpt.push('no-new-privileges');
    const userns = parseUserns(o);
    const fixedMaps = userns.kind === 'maps' ? userns.maps : undefined;
    const stopSignal = o.stopSignal;
    if (stopSignal !== undefined) parseSignal(stopSignal, 'stop-signal');
    mergeHealthcheck(undefined, o.health);
    // validated now, applied at each start
    dockerResources({
      ...(o.memory !== undefined ? { memory: o.memory } : {}),
      // os.cpus() reads /proc/cpuinfo and /proc/stat: only when there is a --cpus to check
      ...(o.cpus !== undefined ? { cpus: o.cpus, hostCpus: cpus().length } : {}),
      ...(o.pidsLimit !== undefined ? { pidsLimit: o.pidsLimit } : {}),
    });

    // the image: pulled per the policy
    const pull = o.pull ?? 'missing';
    const platform = o.platform;
    const pullIt = async () => {
      o.onPullStart?.(o.image);
      await pullImage(this.ctx, o.image, {
        ...(platform ? { platform } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        ...(signal ? { signal } : {}),
      });
    };
    if (pull === 'always') await pullIt();
    const img = await getImage(this.ctx, o.image, signal).catch(async (err: unknown) => {
      if (pull !== 'missing' || !isBerthError(err, 'IMAGE_NOT_FOUND')) throw err;
      await pullIt();
      return getImage(this.ctx, o.image, signal);
    });
    const config = parseImageConfig(
      await this.ctx.store.content.readBlob(img.config.digest, signal ? { signal } : {}),
    );
    const icfg: ImageContainerConfig = config.config ?? {};
    const healthcheck = mergeHealthcheck(icfg.Healthcheck, o.health);
    const chain = chainIds(config.rootfs.diff_ids);
    const parent = chain.at(-1) ?? null;

    // env: bare NAME takes the caller's value, or is dropped (docker's opts.ValidateEnv)
    const env: string[] = [];
    for (const e of o.env ?? []) {
      if (e.includes('=')) env.push(e);
      else {
        const v = o.envLookup?.(e);
        if (v !== undefined) env.push(`${e}=${v}`);
      }
    }
    const entrypoint = o.entrypoint ?? icfg.Entrypoint ?? [];
    const cmd = o.cmd && o.cmd.length > 0 ? o.cmd : o.entrypoint !== undefined ? [] : (icfg.Cmd ?? []);
    // a trial spec now: NO_COMMAND, bad caps, env, tmpfs, workdir fail before anything is written
    const trial = buildSpec(icfg, {
      entrypoint,
      cmd,
      env,
      ...(o.workdir !== undefined ? { workdir: o.workdir } : {}),
      user: /^\d*(:\d*)?$/.test(o.user ?? icfg.User ?? '') ? (o.user ?? icfg.User ?? '') : '0',
      ...(o.capAdd ? { capAdd: o.capAdd } : {}),
      ...(o.capDrop ? { capDrop: o.capDrop } : {}),
      ...(o.privileged ? { privileged: true } : {}),
      ...(o.tmpfs ? { tmpfs: o.tmpfs } : {}),
      ...(Object.keys(ulimits).length ? { ulimits } : {}),
      networkHost: network === 'host',
      seccomp: 'unconfined',
      // the trial checks the combination (privileged) with the maps or a stand-in auto range
      ...(userns.kind === 'maps' ? { userns: userns.maps } : {}),
      ...(userns.kind === 'auto' ? { userns: autoStandIn(userns.size) } : {}),
    });

    // the record
    let id = '';
    for (;;) {
      id = randomBytes(32).toString('hex');
      try {
        mkdirSync(this.dir(id), { mode: 0o711 });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    // no lock: until the record is written (last), no other process can find this container
    let name: string | undefined;
    let idMappings: IdMappings | undefined;
    let prepared = false;
    try {
      name = await this.records.reserveName(id, o.name, o.autoRemove !== true);
      idMappings = userns.kind === 'auto' ? await allocateAuto(this.ctx.root, id, userns.size) : fixedMaps;
      const dir = this.dir(id);
      const hostname = o.hostname || id.slice(0, 12);
      const stopTimeout = o.stopTimeout;
      const cfg: ContainerConfig = {
        Hostname: hostname,
        Domainname: '',
        User: o.user ?? icfg.User ?? '',
        AttachStdin: o.attach?.includes('stdin') ?? false,
        AttachStdout: o.attach?.includes('stdout') ?? false,
        AttachStderr: o.attach?.includes('stderr') ?? false,
        Tty: o.tty === true,
        OpenStdin: o.openStdin === true,
        StdinOnce: o.stdinOnce === true,
        Env: trial.process?.env?.filter((e) => !e.startsWith('HOSTNAME=') && !e.startsWith('HOME=')) ?? [],
        Cmd: cmd.length ? [...cmd] : null,
        Image: o.image,
        Volumes: icfg.Volumes ?? null,
        WorkingDir: o.workdir ?? icfg.WorkingDir ?? '',
        Entrypoint: entrypoint.length ? [...entrypoint] : null,
        OnBuild: null,
        Labels: { ...(icfg.Labels ?? {}), ...(o.labels ?? {}) },
        ...(stopSignal !== undefined || icfg.StopSignal ? { StopSignal: stopSignal ?? icfg.StopSignal } : {}),
        ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
        ...(healthcheck ? { Healthcheck: healthcheck } : {}),
      };
      // HOME comes from passwd at start; PATH stays as docker records it
      const host: HostConfig = {
        NetworkMode: network,
        RestartPolicy: restart,
        AutoRemove: o.autoRemove === true,
        LogConfig: { Type: 'json-file', Config: logOpts },
        CapAdd: o.capAdd?.length ? [...o.capAdd] : null,
        CapDrop: o.capDrop?.length ? [...o.capDrop] : null,
        Privileged: o.privileged === true,
        ReadonlyRootfs: o.readOnly === true,
        ...(o.init ? { Init: true } : {}),
        SecurityOpt: securityOpt.length ? securityOpt : null,
        Tmpfs: o.tmpfs && Object.keys(o.tmpfs).length ? { ...o.tmpfs } : null,
        Memory: o.memory ?? 0,
        MemorySwap: o.memory ? o.memory * 2 : 0,
        NanoCpus: o.cpus ? Math.round(o.cpus * 1e9) : 0,
        PidsLimit: o.pidsLimit ?? null,
        Ulimits: Object.keys(ulimits).length
          ? Object.entries(ulimits).map(([Name, v]) => ({ Name, Soft: v.soft, Hard: v.hard }))
          : null,
        Runtime: runtimeName,
        UsernsMode: userns.kind === 'auto' ? 'auto' : o.userns === 'host' ? 'host' : '',
        ShmSize: 64 * 1024 * 1024,
        Binds: null,
        PortBindings: {},
      };
      const args = trial.process?.args ?? [];
      const rec: ContainerRecord = {
        version: RECORD_VERSION,
        Id: id,
        Created: nowNano(),
        Path: args[0] ?? '',
        Args: args.slice(1),
        State: freshState(),
        Image: img.id,
        Name: `/${name}`,
        RestartCount: 0,
        Config: cfg,
        HostConfig: host,
        ManuallyStopped: false,
        ImageConfig: icfg,
        Snapshot: { key: id, parent },
        Spec: { ulimits, ...(seccomp ? { seccomp } : {}), ...(idMappings ? { idMappings } : {}) },

        Platform: config.os,
      };
      // a --rm container's root is volatile and its record not durable: its snapshot's record
      // is not fsynced either (a power loss leaves at most an orphan tree for `system prune`)
      const durable = durableRecord(rec);
      await (await this.sn()).prepare(id, parent ?? undefined, durable ? undefined : { durable });
      prepared = true;
      mkdirSync(join(dir, 'rootfs'), { mode: 0o755 });
      // written before the record (which makes the container exist): no temp/rename needed, and
      // the record's write fsyncs the directory after them (their names are then on disk too)
      writeFileSync(join(dir, 'hostname'), `${hostname}\n`);
      const hostHosts = network === 'host' ? readOr('/etc/hosts', HOSTS_NONE) : HOSTS_NONE;
      await writeNewFile(join(dir, 'hosts'), hostHosts, durable);
      await writeNewFile(join(dir, 'resolv.conf'), readOr('/etc/resolv.conf', ''), durable);
      await this.records.write(rec);
      await this.event(rec, 'create');
      return { Id: id, Name: name, Warnings: [] };
    } catch (err) {
      if (prepared) await (await this.sn()).remove(id).catch(() => {});
      await this.records.removeDir(id);
      if (name) await this.records.releaseName(id, name);
      if (userns.kind === 'auto' && idMappings) await releaseAuto(this.ctx.root, idMappings);
      throw err;
    }
  }

  // ---- start ---------------------------------------------------------------------------------

  async start(ref: string, options: StartOptions = {}): Promise<void> {
    await this.locked(
      ref,
      (rec, rt) => this.startLocked(rt, rec, options.signal, options.attached ? { attached: true } : {}),
      options.signal,
    );
  }

  /** berth-shim's hooks for a run: exit (policy, --rm, die) unless an attached caller settles it, health when checked. */
  private shimHooks(rec: ContainerRecord, o: { attached?: boolean }): ShimHooks | undefined {
    const hooks = this.opts.hooks;
    if (!hooks) return undefined;
    const id = rec.Id;
    const exit = !o.attached || rec.HostConfig.RestartPolicy.Name !== 'no';
    const hc = rec.Config.Healthcheck;
    const probe = hc && probeArgs(hc) ? healthTimings(hc) : undefined;
    if (!exit && !probe) return undefined;
    return {
      ...(exit ? { exit: [...hooks.exit, id] } : {}),
      // the shim's floor is 100 ms; each probe is a process, so docker's 1 ms minimum is moot
      ...(probe
        ? { health: { argv: [...hooks.health, id], intervalMs: Math.max(100, Math.round(probe.intervalMs)) } }
        : {}),
      ...(hooks.env ? { env: hooks.env } : {}),
      ...(hooks.cwd ? { cwd: hooks.cwd } : {}),
    };
  }

  // ---- attach / exec (containers/attach.ts, exec.ts) -------------------------------------------

  async startAttached(ref: string, o: ContainerAttachOptions): Promise<ContainerAttachment> {
    checkDetachKeys(o.detachKeys);
    let handle: ContainerAttachment | undefined;
    await this.locked(
      ref,
      (rec, rt) =>
        this.startLocked(rt, rec, o.signal, {
          // not `attached`: the session may detach (docker's detach keys) and leave the exit,
          // --rm and the die event to the shim's exit hook
          ...(o.consoleSize ? { consoleSize: o.consoleSize } : {}),
          beforeStart: async () => {
            handle = await attachRecord(rt, rec, o);
          },
        }).catch((err: unknown) => {
          handle?.close();
          throw err;
        }),
      o.signal,
    );
    if (handle) return handle;
    // it was running already: attach to it as it is
    return this.attach(ref, o);
  }

  async attach(ref: string, o: ContainerAttachOptions): Promise<ContainerAttachment> {
    checkDetachKeys(o.detachKeys);
    const { rec, rt, live } = await this.current(ref);
    checkAttachable(live, ref);
    return attachRecord(rt, rec, o);
  }

  async resize(ref: string, size: TerminalSize): Promise<void> {
    const { rec, rt, live } = await this.current(ref);
    if (!live.Running) throw notRunning(rec.Id);
    await rt.resize(rec.Id, size);
  }

  async exec(ref: string, o: ContainerExecOptions): Promise<ContainerExecResult> {
    const { rec, rt, live } = await this.current(ref);
    checkExecutable(live, rec.Id);
    // docker's exec events: `exec_create: CMD`, `exec_start: CMD`, then `exec_die` with the code
    const execID = randomBytes(32).toString('hex');
    const cmd = o.cmd.join(' ');
    await this.event(rec, `exec_create: ${cmd}`, { execID });
    await this.event(rec, `exec_start: ${cmd}`, { execID });
    const r = await execRecord(rt, rec, o);
    if (!o.detach) await this.event(rec, 'exec_die', { execID, exitCode: String(r.ExitCode) });
    return r;
  }

  /** The record and its live state, read without the lock. */
  private async current(
    ref: string,
  ): Promise<{ rec: ContainerRecord; rt: Runtime; live: ContainerStateInfo }> {
    const rt = await this.runtime();
    const id = await this.records.resolve(ref);
    const rec = await this.records.read(id);
    if (!rec) throw noSuchContainer(ref);
    return { rec, rt, live: await this.liveState(rt, rec) };
  }

  private async buildSpecFor(rec: ContainerRecord, rootfs: string): Promise<Spec> {
    const dir = this.dir(rec.Id);
    const c = rec.Config;
    const h = rec.HostConfig;
    const spec = buildSpec(rec.ImageConfig, {
      hostname: c.Hostname,
      entrypoint: c.Entrypoint ?? [],
      cmd: c.Cmd ?? [],
      env: c.Env,
      ...(c.WorkingDir ? { workdir: c.WorkingDir } : {}),
      user: c.User,
      passwd: await readRootFile(rootfs, ['etc', 'passwd']),
      group: await readRootFile(rootfs, ['etc', 'group']),
      ...(h.CapAdd ? { capAdd: h.CapAdd } : {}),
      ...(h.CapDrop ? { capDrop: h.CapDrop } : {}),
      privileged: h.Privileged,
      ...(h.Privileged || h.CapAdd?.some((c) => c.toUpperCase() === 'ALL')
        ? { availableCapabilities: await engineCapabilities() }
        : {}),
      readOnly: h.ReadonlyRootfs,
      ...(h.Tmpfs ? { tmpfs: h.Tmpfs } : {}),
      ...(Object.keys(rec.Spec.ulimits).length ? { ulimits: rec.Spec.ulimits } : {}),
      noNewPrivileges: (h.SecurityOpt ?? []).includes('no-new-privileges'),
      networkHost: h.NetworkMode === 'host',
      ...(rec.Spec.idMappings ? { userns: rec.Spec.idMappings } : {}),
      rootfs,
      ...(rec.Spec.seccomp ? { seccomp: rec.Spec.seccomp } : {}),
    });
    const ro = h.ReadonlyRootfs ? ['ro'] : [];
    for (const f of ['resolv.conf', 'hostname', 'hosts'])
      spec.mounts?.push({
        destination: `/etc/${f}`,
        type: 'bind',
        source: join(dir, f),
        options: ['rbind', 'rprivate', ...ro],
      });
    // runc and crun make the cgroup themselves: name it, so pause and stats find it
    if (spec.linux && h.Runtime && h.Runtime !== DEFAULT_RUNTIME) spec.linux.cgroupsPath = `/berth/${rec.Id}`;
    if (spec.linux) {
      spec.linux.resources = {
        ...spec.linux.resources,
        ...dockerResources({
          ...(h.Memory ? { memory: h.Memory } : {}),
          ...(h.NanoCpus ? { cpus: h.NanoCpus / 1e9 } : {}),
          ...(h.PidsLimit !== null ? { pidsLimit: h.PidsLimit } : {}),
        }),
      };
    }
    // docker's --init: berth-init (built beside berth-shim) as PID 1 at /sbin/docker-init
    if (h.Init) {
      const searchPath = this.shimSearch().searchPath;
      return withInit(spec, { initPath: await locateInit(searchPath !== undefined ? { searchPath } : {}) });
    }
    return spec;
  }

  private async startLocked(
    rt: Runtime,
    rec: ContainerRecord,
    signal?: AbortSignal,
    o: {
      attached?: boolean;
      policy?: boolean;
      /** The terminal's size of a `-t` container (attach.ts). */
      consoleSize?: TerminalSize;
      /** Runs once the shim exists, before the process does: an attach sees its first byte. */
      beforeStart?: () => Promise<void>;
    } = {},
  ): Promise<void> {
    if (rec.State.Status === 'removing' || rec.State.Status === 'dead')
      throw new BerthError(
        ContainerErrorCode.CONTAINER_REMOVING,
        `container ${rec.Id}: is marked for removal and cannot be started`,
      );
    const live = await this.liveState(rt, rec);
    if (live.Running) return;
    // a previous run (exited, or a launch that never started): record its end, archive and free it
    await this.persistExit(rec, live);
    await this.teardownRun(rt, rec);
    await clearHealth(this.dir(rec.Id));
    const hooks = this.shimHooks(rec, o);
    const id = rec.Id;
    const dir = this.dir(id);
    const rootfs = join(dir, 'rootfs');
    const h = rec.HostConfig;
    const maxSize = h.LogConfig.Config['max-size'];
    const maxFile = h.LogConfig.Config['max-file'];
    let started = false;
    try {
      const mounts = await (await this.sn()).mounts(rec.Snapshot.key);
      const maps = rec.Spec.idMappings;
      if (maps) await this.reachableBy(dir);
      const base = h.AutoRemove ? await volatileMounts(mounts) : mounts;
      await mountAll(
        maps
          ? await idmapLayers(base, join(dir, 'idmap'), {
              ...maps,
              shim: this.shimSearch(),
              ...(signal ? { signal } : {}),
            })
          : base,
        rootfs,
        signal ? { signal } : {},
      );
      const spec = await this.buildSpecFor(rec, rootfs);
      applyTerminal(spec, rec.Config, o.consoleSize);
      // rebuilt at every start, so a torn file after a crash is simply rewritten
      writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
      const creator = await this.runtimeFor(rec);
      const launch: CreateOptions = {
        log: {
          ...(maxSize !== undefined ? { maxSize: parseRamBytes(maxSize) } : {}),
          ...(maxFile !== undefined ? { maxFile: Number(maxFile) } : {}),
        },
        ...(h.NetworkMode === 'none' ? { loopback: true } : {}),
        ...(hooks ? { hooks } : {}),
        ...(rec.Config.OpenStdin && !rec.Config.Tty ? { openStdin: true } : {}),
        // a --rm container's exit record dies with it, as its other records do
        ...(durableRecord(rec) ? {} : { durableExit: false }),
        ...(signal ? { signal } : {}),
      };
      // nothing to do between the shim's existence and the process's start (no attach): one
      // launch that starts it, as `runc run -d`, instead of create, then start
      let st: RuntimeState;
      if (o.beforeStart) {
        await creator.create(id, dir, launch);
        await o.beforeStart();
        st = await rt.start(id, signal ? { signal } : {});
      } else {
        st = await creator.run(id, dir, launch);
      }
      started = true;
      rec.State = {
        ...freshState(),
        Status: 'running',
        Running: true,
        Pid: st.pid,
        StartedAt: nowNano(),
      };
      rec.ManuallyStopped = false;
      if (!o.policy) {
        // docker's ResetRestartManager: a start by a user begins a new count
        rec.RestartCount = 0;
        rec.RestartDelayMs = 0;
      }
      await this.records.write(rec);
      await this.event(rec, 'start');
    } catch (err) {
      if (!started) {
        await rt.delete(id, { force: true }).catch(() => {});
        await this.unmountRoot(rec).catch(() => {});
        // docker keeps the failed container with the launch's exit code and error
        const code = isBerthError(err, 'EXEC_NOT_FOUND')
          ? 127
          : isBerthError(err, 'EXEC_PERMISSION_DENIED')
            ? 126
            : 128;
        rec.State = {
          ...rec.State,
          Status: rec.State.StartedAt === ZERO_TIME ? 'created' : 'exited',
          Running: false,
          Pid: 0,
          ExitCode: code,
          Error: err instanceof Error ? err.message : String(err),
        };
        await this.records.write(rec).catch(() => {});
      }
      throw err;
    }
  }

  // ---- stop / kill / restart -----------------------------------------------------------------

  async kill(ref: string, options: { signal?: string } = {}): Promise<void> {
    const sig = parseSignal(options.signal ?? 'SIGKILL');
    const rt = await this.runtime();
    const id = await this.records.resolve(ref);
    const rec = await this.records.read(id);
    if (!rec) throw noSuchContainer(ref);
    const live = await this.liveState(rt, rec);
    // a start still under way (its lock held) records `running` only after berth-shim has
    // started the process, whose first output may already be out: a signal sent on seeing it
    // (run's --sig-proxy forwarding Ctrl-C) must reach the process, so ask berth-shim itself
    if (
      !live.Running &&
      !(live.Status === 'created' && (await this.runtimeState(rt, id))?.status === 'running')
    )
      throw notRunning(id);
    const signo = typeof sig === 'number' ? sig : (osConstants.signals[sig] ?? 0);
    const stopSigno =
      osConstants.signals[parseSignal(rec.Config.StopSignal ?? 'SIGTERM') as NodeJS.Signals] ?? 15;
    // docker: a kill with SIGKILL or the stop signal is a user's stop, which cancels the restart
    // policy (HasBeenManuallyStopped); only a policy needs it recorded
    if (
      rec.HostConfig.RestartPolicy.Name !== 'no' &&
      (signo === 9 || signo === stopSigno) &&
      !rec.ManuallyStopped
    )
      await this.locked(id, async (r) => {
        r.ManuallyStopped = true;
        await this.records.write(r);
      });
    try {
      await rt.kill(id, sig);
      // moby's kill: SIGKILL or the stop signal reaches a paused container once it is thawed;
      // any other signal stays pending while it is paused
      const n = signalNumber(sig);
      if (live.Paused && (n === 9 || n === signalNumber(parseSignal(rec.Config.StopSignal ?? 'SIGTERM'))))
        await rt.resume(id).catch(() => {});
    } catch (err) {
      if (isBerthError(err, 'CONTAINER_NOT_RUNNING') || isBerthError(err, 'CONTAINER_NOT_FOUND'))
        throw notRunning(id);
      throw err;
    }
    await this.event(rec, 'kill', { signal: String(signo) });
  }

  async stop(ref: string, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
    const rt = await this.runtime();
    const id = await this.records.resolve(ref);
    // mark it stopped by the user (unless-stopped), under the lock; the wait runs unlocked so rm -f
    // and kill can act meanwhile
    const rec = await this.locked(id, async (r) => {
      const live = await this.liveState(rt, r);
      if (live.Status === 'restarting') {
        // docker: stop cancels a pending restart; the container stays exited
        r.State = { ...live, Status: 'exited', Restarting: false };
        r.ManuallyStopped = true;
        await this.records.write(r);
      } else if (live.Running && !r.ManuallyStopped) {
        r.ManuallyStopped = true;
        await this.records.write(r);
      }
      return { ...r, State: live };
    });
    if (rec.State.Running) {
      const sig = parseSignal(rec.Config.StopSignal ?? 'SIGTERM', 'stop-signal');
      const timeout = options.timeout ?? rec.Config.StopTimeout ?? 10;
      if (rec.State.Paused) await rt.resume(id).catch(() => {});
      await rt.kill(id, sig).catch(() => {});
      await this.event(rec, 'kill', {
        signal: String(typeof sig === 'number' ? sig : (osConstants.signals[sig] ?? 15)),
      });
      const exited = await waitFor(rt.wait(id, options.signal ? { signal: options.signal } : {}), timeout);
      if (!exited) {
        await rt.kill(id, 'SIGKILL').catch(() => {});
        await rt.wait(id, options.signal ? { signal: options.signal } : {}).catch(() => {});
      }
    }
    const after = await this.locked(id, (r, rt2) => this.settle(rt2, r)).catch(ignoreNotFound);
    if (rec.State.Running && after) await this.event(after, 'stop');
    // docker removes a --rm container when it exits, a stop included
    if (after?.HostConfig.AutoRemove) await this.remove(id, { force: true }).catch(ignoreNotFound);
  }

  async restart(ref: string, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
    const id = await this.resolve(ref);
    await this.stop(id, options);
    await this.locked(id, async (rec, rt) => {
      rec.RestartCount = 0;
      await this.startLocked(rt, rec, options.signal);
      await this.event(rec, 'restart');
    });
  }

  // ---- wait / remove -------------------------------------------------------------------------

  async wait(
    ref: string,
    options: { settle?: boolean; remove?: boolean; signal?: AbortSignal } = {},
  ): Promise<WaitResult> {
    if (options.remove) return this.waitRemoved(ref, options.signal);
    const rt = await this.runtime();
    const id = await this.records.resolve(ref);
    const rec = await this.records.read(id);
    if (!rec) throw noSuchContainer(ref);
    let live = await this.liveState(rt, rec);
    let exit: Awaited<ReturnType<Runtime['wait']>> | undefined;
    if (live.Running) {
      exit = await rt.wait(id, options.signal ? { signal: options.signal } : {}).catch((err: unknown) => {
        if (options.signal?.aborted) throw err;
        return undefined;
      });
    }
    if (options.settle === false) {
      // ended before this call: the state just read is the answer (`run --rm` after its log)
      if (!live.Running)
        return { StatusCode: live.ExitCode, Error: live.Error ? { Message: live.Error } : null };
      const now = await this.records.read(id);
      // removed meanwhile (a --rm container's exit hook): the exit berth-shim reported stands
      if (!now && exit)
        return { StatusCode: exit.exitCode, Error: exit.error ? { Message: exit.error.message } : null };
      live = await this.liveState(rt, now ?? rec);
      return { StatusCode: live.ExitCode, Error: live.Error ? { Message: live.Error } : null };
    }
    const after = await this.locked(id, (r, rt2) => this.settle(rt2, r)).catch((err: unknown) => {
      if (isBerthError(err, 'CONTAINER_NOT_FOUND')) return undefined;
      throw err;
    });
    live = after?.State ?? (await this.liveState(rt, rec));
    return { StatusCode: live.ExitCode, Error: live.Error ? { Message: live.Error } : null };
  }

  /**
   * `wait` with `remove`: removes the container once it has exited and answers with the exit
   * the removal read under its lock. Still running: waits for berth-shim's exit report, then
   * tries again; a failed wait (berth-shim gone) makes the next try a forced removal, as the
   * `rm -f` that `run --rm` made before, so this never spins.
   */
  private async waitRemoved(ref: string, signal?: AbortSignal): Promise<WaitResult> {
    const rt = await this.runtime();
    const id = await this.records.resolve(ref);
    let force = false;
    for (;;) {
      const ended = await this.removeCounted(id, {
        force: true,
        ifExited: !force,
        ...(signal ? { signal } : {}),
      }).catch(async (err: unknown) => {
        // removed by another process meanwhile (`rm -f` from another terminal): the exit code
        // its `die` event recorded, as docker's client reports the code of a container removed
        // under it
        if (!isBerthError(err, 'CONTAINER_NOT_FOUND')) throw err;
        const code = await this.lastExitCode(id);
        if (code === undefined) throw err;
        return { ...freshState(), ExitCode: code };
      });
      // killed by a forced removal: SIGKILL's code, as its `die` event says
      if (ended?.Running) return { StatusCode: 137, Error: null };
      if (ended) return { StatusCode: ended.ExitCode, Error: ended.Error ? { Message: ended.Error } : null };
      await rt.wait(id, signal ? { signal } : {}).catch((err: unknown) => {
        if (signal?.aborted) throw err;
        force = true;
      });
    }
  }

  /** The exit code of `id`'s last `die` event of the past ten minutes, if there is one. */
  private async lastExitCode(id: string): Promise<number | undefined> {
    let code: number | undefined;
    for await (const e of readEvents(this.ctx.root, { since: Date.now() - 600_000, follow: false }))
      if (e.Actor.ID === id && e.Action === 'die') code = Number(e.Actor.Attributes.exitCode ?? Number.NaN);
    return code !== undefined && Number.isInteger(code) ? code : undefined;
  }

  /** {@link remove} calls under way (an `rm -f` of many runs them side by side). */
  private removing = 0;

  async remove(
    ref: string,
    options: { force?: boolean; volumes?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.removeCounted(ref, options);
  }

  /** {@link removeOne}, counted in {@link removing}. */
  private async removeCounted(
    ref: string,
    options: { force?: boolean; volumes?: boolean; ifExited?: boolean; signal?: AbortSignal },
  ): Promise<ContainerStateInfo | undefined> {
    this.removing++;
    try {
      return await this.removeOne(ref, options);
    } finally {
      this.removing--;
    }
  }

  /**
   * Removes the container; the state it had (its exit, for a stopped one). `ifExited`: a running
   * one is left alone and the answer is undefined.
   */
  private async removeOne(
    ref: string,
    options: { force?: boolean; volumes?: boolean; ifExited?: boolean; signal?: AbortSignal },
  ): Promise<ContainerStateInfo | undefined> {
    return this.locked(
      ref,
      async (rec, rt) => {
        const live = await this.liveState(rt, rec);
        if (options.ifExited && (live.Running || live.Restarting)) return undefined;
        if ((live.Running || live.Restarting) && !options.force)
          throw new BerthError(
            ContainerErrorCode.CONTAINER_RUNNING,
            `You cannot remove a ${live.Paused ? 'paused' : 'running'} container ${rec.Id}. ${live.Paused ? 'Unpause and then stop' : 'Stop'} the container before attempting removal or force remove`,
            { input: { ref } },
          );
        const ended = isActive(rec.State);
        rec.State = { ...live, Status: 'removing' };
        // beside other removals (`rm -f` of many) the record's write and the steps below go to
        // the thread pool, where their waits on the disk overlap
        const concurrent = this.removing > 1;
        await this.records.write(rec);
        if (live.Running) await this.event(rec, 'kill', { signal: '9' });
        try {
          if (existsSync(this.shimDir(rec.Id)))
            await rt
              .delete(rec.Id, { force: true, ...(options.signal ? { signal: options.signal } : {}) })
              .catch(async (err: unknown) => {
                if (!isBerthError(err, 'CONTAINER_NOT_FOUND')) throw err;
              });
          // what a delete that found no shim left (it removes the directory itself); one stat
          // against a thread-pool job when there is nothing left
          if (existsSync(this.shimDir(rec.Id)))
            await removeTree(this.shimDir(rec.Id), concurrent ? 0 : REMOVE_TREE_SYNC_BUDGET, syscallFsCalls);
          await this.unmountRoot(rec);
          // a --rm container's root is volatile and its record not durable: no fsync for it
          const durable = durableRecord(rec);
          await (await this.sn()).remove(rec.Snapshot.key, { durable, concurrent }).catch((err: unknown) => {
            if (!isBerthError(err, 'SNAPSHOT_NOT_FOUND')) throw err;
          });
          await this.records.removeDir(rec.Id, this.removing <= 1);
          await this.records.releaseName(rec.Id, rec.Name, { concurrent });
          if (rec.HostConfig.UsernsMode === 'auto' && rec.Spec.idMappings)
            await releaseAuto(this.ctx.root, rec.Spec.idMappings);
          // die and destroy in one append
          await appendEvent(this.ctx.root, [
            ...(ended
              ? [containerEvent(rec, 'die', { exitCode: String(live.Running ? 137 : live.ExitCode) })]
              : []),
            containerEvent(rec, 'destroy'),
          ]);
          return live;
        } catch (err) {
          rec.State = {
            ...rec.State,
            Status: 'dead',
            Dead: true,
            Error: err instanceof Error ? err.message : String(err),
          };
          await this.records.write(rec).catch(() => {});
          throw err;
        }
      },
      options.signal,
    );
  }

  // ---- hooks: exit, health, boot -------------------------------------------------------------

  async handleExit(ref: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal;
    const id = await this.resolve(ref).catch(ignoreNotFound);
    if (id === undefined) return;
    for (;;) {
      let delay: number | undefined;
      let autoRemove = false;
      const found = await this.locked(
        id,
        async (rec, rt) => {
          if (rec.State.Status === 'removing' || rec.State.Status === 'dead') return true;
          if (rec.State.Status === 'restarting') return true; // another hook waits it out
          const live = await this.liveState(rt, rec);
          if (live.Running || live.Status === 'created') return true; // restarted by someone else
          await this.settle(rt, rec);
          if (rec.HostConfig.AutoRemove) {
            autoRemove = true;
            return true;
          }
          const s = rec.State;
          const ran = Date.parse(s.FinishedAt) - Date.parse(s.StartedAt);
          const d = restartDecision(rec.HostConfig.RestartPolicy, {
            exitCode: s.ExitCode,
            manuallyStopped: rec.ManuallyStopped,
            restartCount: rec.RestartCount,
            ranMs: Number.isFinite(ran) && ran > 0 ? ran : 0,
            previousDelayMs: rec.RestartDelayMs ?? 0,
          });
          if (!d.restart) return true;
          rec.RestartDelayMs = d.delayMs;
          rec.RestartCount++;
          rec.State = { ...s, Status: 'restarting', Restarting: true };
          await this.records.write(rec);
          delay = d.delayMs;
          return true;
        },
        signal,
      ).catch(ignoreNotFound);
      if (!found) return;
      if (autoRemove) {
        await this.remove(id, { force: true, ...(signal ? { signal } : {}) }).catch(ignoreNotFound);
        return;
      }
      if (delay === undefined) return;
      await sleep(delay, signal);
      signal?.throwIfAborted();
      let failed = false;
      await this.locked(
        id,
        async (rec, rt) => {
          // a user's stop, start or rm meanwhile wins
          if (rec.State.Status !== 'restarting' || rec.ManuallyStopped) return;
          try {
            await this.startLocked(rt, rec, signal, { policy: true });
          } catch (err) {
            // recorded as exited with the launch's error and code: the policy decides again
            this.ctx.logger.warn('restart failed', { id, err: String(err) });
            failed = true;
          }
        },
        signal,
      ).catch(ignoreNotFound);
      if (!failed) return;
    }
  }

  async healthcheck(
    ref: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ContainerStateInfo['Health']> {
    const rt = await this.runtime();
    const id = await this.records.resolve(ref);
    const rec = await this.records.read(id);
    if (!rec) throw noSuchContainer(ref);
    const hc = rec.Config.Healthcheck;
    const args = probeArgs(hc);
    if (!hc || !args) return undefined;
    const live = await this.liveState(rt, rec);
    // docker skips probes of a paused container: an exec into a frozen cgroup would hang
    if (!live.Running || live.Paused) return live.Health;
    const t = healthTimings(hc);
    const Start = nowNano();
    let output = '';
    let exitCode: number;
    let timedOut = false;
    let pid = 0;
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      ac.abort();
    }, t.timeoutMs);
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (output.length < 8192) output += chunk.toString('utf8');
        cb();
      },
    });
    try {
      const r = await rt.exec(id, {
        args,
        stdout: sink,
        stderr: sink,
        signal: ac.signal,
        onStarted: (i) => {
          pid = i.pid;
        },
      });
      exitCode = r.exitCode;
    } catch (err) {
      // docker: a probe that cannot run is a failure with exit code -1 and the error as output
      exitCode = -1;
      output = err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (timedOut) {
      exitCode = -1;
      output = `Health check exceeded timeout (${goDuration(Math.round(t.timeoutMs))})`;
    }
    const entry: HealthLogEntry = { Start, End: nowNano(), ExitCode: exitCode, Output: output };
    const dir = this.dir(id);
    const prev = (await readHealth(dir)) ?? initialHealth();
    const next = applyProbe(prev, entry, {
      retries: t.retries,
      inStartPeriod: Date.now() - Date.parse(live.StartedAt) < t.startPeriodMs,
    });
    // the container may have stopped or been restarted meanwhile: a stale probe is dropped
    const current = await this.records.read(id).catch(() => undefined);
    if (!current || current.State.StartedAt !== live.StartedAt || !isActive(current.State)) return undefined;
    await writeHealth(dir, next);
    if (next.Status !== prev.Status) await this.event(rec, `health_status: ${next.Status}`);
    return next;
  }

  async boot(options: { signal?: AbortSignal } = {}): Promise<BootReport> {
    const signal = options.signal;
    await this.runtime();
    const started: string[] = [];
    const failed: BootReport['failed'] = [];
    for (const r of await this.records.list()) {
      let start = false;
      let autoRemove = false;
      await this.locked(
        r.Id,
        async (rec, rt) => {
          const wasRunning = isActive(rec.State) || rec.State.Status === 'restarting';
          const live = await this.liveState(rt, rec);
          if (live.Running || rec.State.Status === 'removing') return;
          await this.settle(rt, rec);
          if (rec.HostConfig.AutoRemove) autoRemove = true;
          else if (startsAtBoot(rec, wasRunning)) {
            try {
              await this.startLocked(rt, rec, signal, { policy: true });
              start = true;
            } catch (err) {
              failed.push({ id: rec.Id, error: err instanceof Error ? err.message : String(err) });
            }
          }
        },
        signal,
      ).catch(ignoreNotFound);
      if (autoRemove)
        await this.remove(r.Id, { force: true, ...(signal ? { signal } : {}) }).catch(ignoreNotFound);
      if (start) started.push(r.Id);
    }
    return { started, failed };
  }

  // ---- list / inspect ------------------------------------------------------------------------

  async list(options: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    const rt = await this.runtime();
    const f = options.filters ?? {};
    for (const k of Object.keys(f))
      if (!['status', 'name', 'label', 'ancestor', 'exited', 'id', 'health'].includes(k))
        throw new BerthError('INVALID_FILTER', `invalid filter '${k}'`, { input: { field: 'filter' } });
    for (const s of f.status ?? [])
      if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(s))
        throw new BerthError('INVALID_FILTER', `invalid filter 'status=${s}'`, {
          input: { field: 'filter' },
        });
    for (const h of f.health ?? [])
      if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h))
        throw new BerthError('INVALID_FILTER', `Unrecognised filter value for health: ${h}`, {
          input: { field: 'filter' },
        });
    let ancestors: Set<string> | undefined;
    if (f.ancestor?.length) {
      ancestors = new Set();
      for (const a of f.ancestor) {
        const img = await getImage(this.ctx, a).catch(() => undefined);
        if (img) ancestors.add(img.id);
        ancestors.add(a);
      }
    }
    const all =
      options.all ||
      options.limit !== undefined ||
      (f.status?.length ?? 0) > 0 ||
      (f.exited?.length ?? 0) > 0;
    const out: { rec: ContainerRecord; state: ContainerStateInfo }[] = [];
    for (const rec of await this.records.list()) {
      const state = await this.liveState(rt, rec);
      if (!all && !state.Running) continue;
      if (f.status?.length && !f.status.includes(state.Status)) continue;
      if (f.exited?.length && !(state.Status === 'exited' && f.exited.includes(String(state.ExitCode))))
        continue;
      if (f.name?.length && !f.name.some((n) => new RegExp(n).test(rec.Name.slice(1)) || rec.Name === n))
        continue;
      if (f.id?.length && !f.id.some((i) => rec.Id.startsWith(i))) continue;
      if (
        f.label?.length &&
        !f.label.every((l) => {
          const eq = l.indexOf('=');
          return eq < 0
            ? Object.hasOwn(rec.Config.Labels, l)
            : rec.Config.Labels[l.slice(0, eq)] === l.slice(eq + 1);
        })
      )
        continue;
      if (ancestors && !ancestors.has(rec.Image) && !ancestors.has(rec.Config.Image)) continue;
      if (f.health?.length && !f.health.includes(state.Health?.Status ?? 'none')) continue;
      out.push({ rec, state });
    }
    out.sort((a, b) => (a.rec.Created < b.rec.Created ? 1 : a.rec.Created > b.rec.Created ? -1 : 0));
    const picked = options.limit !== undefined && options.limit > 0 ? out.slice(0, options.limit) : out;
    const res: ContainerSummary[] = [];
    for (const { rec, state } of picked) {
      const s: ContainerSummary = {
        Id: rec.Id,
        Names: [rec.Name],
        Image: rec.Config.Image,
        ImageID: rec.Image,
        Command: rec.Args.length ? `${rec.Path} ${rec.Args.map(quoteArg).join(' ')}` : rec.Path,
        Created: Math.floor(Date.parse(rec.Created) / 1000),
        Ports: [],
        Labels: rec.Config.Labels,
        State: state.Status,
        Status: statusText(state),
        HostConfig: { NetworkMode: rec.HostConfig.NetworkMode },
        Mounts: [],
      };
      if (options.size) {
        const u = await (await this.sn()).usage(rec.Snapshot.key).catch(() => ({ size: 0 }));
        s.SizeRw = u.size;
        s.SizeRootFs = u.size + (await this.imageSize(rec));
      }
      res.push(s);
    }
    return res;
  }

  private async imageSize(rec: ContainerRecord): Promise<number> {
    let total = 0;
    let key = rec.Snapshot.parent;
    while (key) {
      const info = await (await this.sn()).stat(key).catch(() => undefined);
      if (!info) break;
      total += (await (await this.sn()).usage(key).catch(() => ({ size: 0 }))).size;
      key = info.parent ?? null;
    }
    return total;
  }

  async inspect(
    ref: string,
    options: { size?: boolean; signal?: AbortSignal } = {},
  ): Promise<ContainerInspect> {
    const rt = await this.runtime();
    const id = await this.records.resolve(ref);
    const rec = await this.records.read(id);
    if (!rec) throw noSuchContainer(ref);
    const state = await this.liveState(rt, rec);
    const dir = this.dir(id);
    const liveLog = join(this.shimDir(id), `${id}-json.log`);
    const logPath = (await stat(liveLog).catch(() => undefined)) ? liveLog : join(dir, `${id}-json.log`);
    const snap = await (await this.sn()).stat(rec.Snapshot.key).catch(() => undefined);
    const out: ContainerInspect = {
      Id: rec.Id,
      Created: rec.Created,
      Path: rec.Path,
      Args: rec.Args,
      State: state,
      Image: rec.Image,
      ResolvConfPath: join(dir, 'resolv.conf'),
      HostnamePath: join(dir, 'hostname'),
      HostsPath: join(dir, 'hosts'),
      LogPath: logPath,
      Name: rec.Name,
      RestartCount: rec.RestartCount,
      Driver: `berth-${(await this.sn()).driver}`,
      Platform: rec.Platform,
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: null,
      HostConfig: rec.HostConfig,
      GraphDriver: {
        Name: `berth-${(await this.sn()).driver}`,
        Data: snap ? { UpperDir: snap.dir, MergedDir: join(dir, 'rootfs') } : null,
      },
      Mounts: [],
      Config: rec.Config,
      NetworkSettings: {
        Bridge: '',
        SandboxID: '',
        SandboxKey: state.Running && rec.HostConfig.NetworkMode !== 'host' ? `/proc/${state.Pid}/ns/net` : '',
        Ports: {},
        Networks: {
          [rec.HostConfig.NetworkMode]: {
            IPAMConfig: null,
            Links: null,
            Aliases: null,
            NetworkID: '',
            EndpointID: '',
            Gateway: '',
            IPAddress: '',
            IPPrefixLen: 0,
            IPv6Gateway: '',
            GlobalIPv6Address: '',
            GlobalIPv6PrefixLen: 0,
            MacAddress: '',
          },
        },
      },
    };
    if (options.size) {
      const u = await (await this.sn()).usage(rec.Snapshot.key).catch(() => ({ size: 0 }));
      out.SizeRw = u.size;
      out.SizeRootFs = u.size + (await this.imageSize(rec));
    }
    return out;
  }

  // ---- logs / rename / prune -----------------------------------------------------------------

  async logs(ref: string, options: LogsOptions = {}): Promise<AsyncIterable<LogEntry>> {
    const rt = await this.runtime();
    const id = await this.records.resolve(ref);
    const rec = await this.records.read(id);
    if (!rec) throw noSuchContainer(ref);
    const since =
      options.since !== undefined && options.since !== ''
        ? parseTimestamp(options.since, 'since')
        : undefined;
    const until =
      options.until !== undefined && options.until !== ''
        ? parseTimestamp(options.until, 'until')
        : undefined;
    const wantOut = options.stdout ?? true;
    const wantErr = options.stderr ?? true;
    const shimDir = this.shimDir(id);
    const live = join(shimDir, `${id}-json.log`);
    // synchronous stats, as the log reads are (logs.ts): no thread-pool round trip on run's way
    const hasLive = existsSync(shimDir);
    const entries = readLog(
      { archive: join(this.dir(id), `${id}-json.log`), ...(hasLive ? { live } : {}) },
      {
        ...(options.follow && until === undefined ? { follow: true } : {}),
        ended: async () => {
          if (existsSync(join(shimDir, 'exit'))) return true;
          const r = await this.records.read(id).catch(() => undefined);
          return !r || !(await this.liveState(rt, r)).Running;
        },
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    const keep = (e: LogEntry) => {
      if (e.stream === 'stdout' ? !wantOut : !wantErr) return false;
      if (since === undefined && until === undefined) return true;
      const t = Date.parse(e.time);
      return (since === undefined || t >= since) && (until === undefined || t <= until);
    };
    const tail = options.tail;
    if (tail === undefined || tail < 0) {
      return (async function* () {
        for await (const e of entries) if (keep(e)) yield e;
      })();
    }
    // tail: the last n of what is there now (a first pass), then, with follow, what comes after
    const files = { archive: join(this.dir(id), `${id}-json.log`), ...(hasLive ? { live } : {}) };
    const last: LogEntry[] = [];
    let seen = 0;
    for await (const e of readLog(files)) {
      seen++;
      if (!keep(e)) continue;
      last.push(e);
      if (last.length > tail) last.shift();
    }
    const follow = options.follow === true && until === undefined;
    return (async function* () {
      if (tail > 0) yield* last;
      if (!follow) return;
      let i = 0;
      for await (const e of entries) if (i++ >= seen && keep(e)) yield e;
    })();
  }

  async rename(ref: string, newName: string): Promise<void> {
    await this.locked(ref, async (rec) => {
      const old = rec.Name;
      if (old === `/${newName.replace(/^\//, '')}`)
        throw invalidOption('name', `Renaming a container with the same name as its current name`);
      const n = await this.records.reserveName(rec.Id, newName);
      try {
        rec.Name = `/${n}`;
        await this.records.write(rec);
        await this.event(rec, 'rename', { oldName: old });
      } catch (err) {
        await this.records.releaseName(rec.Id, n);
        throw err;
      }
      await this.records.releaseName(rec.Id, old);
    });
  }

  async prune(options: { signal?: AbortSignal } = {}): Promise<ContainerPruneReport> {
    const rt = await this.runtime();
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const rec of await this.records.list()) {
      const live = await this.liveState(rt, rec);
      if (live.Running || live.Status === 'removing') continue;
      const usage = await (await this.sn()).usage(rec.Snapshot.key).catch(() => ({ size: 0 }));
      try {
        await this.remove(rec.Id, options.signal ? { signal: options.signal } : {});
        deleted.push(rec.Id);
        reclaimed += usage.size;
      } catch (err) {
        if (!isBerthError(err, 'CONTAINER_RUNNING') && !isBerthError(err, 'CONTAINER_NOT_FOUND')) throw err;
      }
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: reclaimed };
  }
}

function notRunning(id: string): BerthError {
  return new BerthError(ContainerErrorCode.CONTAINER_NOT_RUNNING, `Container ${id} is not running`, {
    input: { ref: id },
  });
}

/** A container's event: its labels, image and name beside `extra`. */
function containerEvent(
  rec: ContainerRecord,
  action: string,
  extra: Record<string, string> = {},
): EventInput {
  return {
    Type: 'container',
    Action: action,
    id: rec.Id,
    attributes: { ...rec.Config.Labels, image: rec.Config.Image, name: rec.Name.slice(1), ...extra },
  };
}

/** Resolves true when `p` settles within `seconds` (-1: forever), false on timeout. */
async function waitFor(p: Promise<unknown>, seconds: number): Promise<boolean> {
  const settled = p.then(
    () => true,
    () => true,
  );
  if (seconds < 0) return settled;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), seconds * 1000);
  });
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function signalNumber(sig: NodeJS.Signals | number): number {
  return typeof sig === 'number' ? sig : ((osConstants.signals as Record<string, number>)[sig] ?? 0);
}

/** moby's daemon/list.go: an argument with a space is shown in single quotes. */
function quoteArg(a: string): string {
  return a.includes(' ') ? `'${a}'` : a;
}

/** Creates the container service over an engine's context. */
let boundingSet: Promise<string[]> | undefined;
/**
 * The engine's own bounding set, which --privileged and --cap-add ALL grant (podman's rule):
 * asking for a capability the engine cannot hold would fail the container's capset.
 */
function engineCapabilities(): Promise<string[]> {
  boundingSet ??= readFile('/proc/self/status', 'utf8').then(boundingCapabilities);
  return boundingSet;
}

export function createContainerService(ctx: EngineContext, opts: ContainerServiceOptions): ContainerService {
  return new Containers(ctx, opts);
}
