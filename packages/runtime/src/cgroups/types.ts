/**
 * The cgroup driver contract shared by the v1 and v2 drivers: one interface, two
 * implementations chosen by {@link detectCgroupHost} (youki's `CgroupManager`, containerd's
 * `cgroups.Manager`). Paths are cgroup paths (`/berth/<id>`), never filesystem paths; each
 * driver maps them under the hierarchy roots it was given, so a test can hand it a generated
 * fixture tree instead of /sys/fs/cgroup.
 */
import type { LinuxResources } from '@berth/oci';

/** Error codes thrown by the cgroup drivers. */
export const CgroupErrorCode = {
  /** No usable cgroup mount: neither v1 controllers nor a cgroup2 root with controllers. */
  CGROUPS_UNAVAILABLE: 'CGROUPS_UNAVAILABLE',
  /** A cgroup path that is not absolute, climbs with `..`, is the root, or is systemd-style. */
  CGROUP_PATH_INVALID: 'CGROUP_PATH_INVALID',
  /** A resource value the kernel or docker would refuse (named by its spec field). */
  CGROUP_RESOURCE_INVALID: 'CGROUP_RESOURCE_INVALID',
  /** Writing a control file failed; the errno stays reachable through `cause.code`. */
  CGROUP_WRITE_FAILED: 'CGROUP_WRITE_FAILED',
  /** Reading a control file failed, or it held something unparseable. */
  CGROUP_READ_FAILED: 'CGROUP_READ_FAILED',
  /** The cgroup does not exist. */
  CGROUP_NOT_FOUND: 'CGROUP_NOT_FOUND',
  /** A controller the operation needs is not mounted or enabled (e.g. no freezer). */
  CGROUP_UNSUPPORTED: 'CGROUP_UNSUPPORTED',
  /** The freezer did not reach the requested state in time. */
  CGROUP_FREEZE_TIMEOUT: 'CGROUP_FREEZE_TIMEOUT',
  /** The cgroup still holds tasks and could not be removed. */
  CGROUP_BUSY: 'CGROUP_BUSY',
} as const;
/** Union of {@link CgroupErrorCode} values. */
export type CgroupErrorCode = (typeof CgroupErrorCode)[keyof typeof CgroupErrorCode];

/** Codes of the non-fatal findings an apply reports (docker prints these as warnings). */
export type CgroupWarningCode =
  /** The memory+swap limit cannot be set: no memsw / memory.swap.max (no swap accounting). */
  | 'SWAP_LIMIT_UNSUPPORTED'
  /** No blkio.weight, blkio.bfq.weight, io.bfq.weight or io.weight file: the weight was discarded. */
  | 'BLKIO_WEIGHT_UNSUPPORTED'
  /** cgroup v2 device rules were not enforced: the driver has no device program loader. */
  | 'DEVICES_NOT_ENFORCED'
  /** A setting this cgroup version does not have (e.g. oom_kill_disable on v2) was ignored. */
  | 'SETTING_IGNORED';

/** A non-fatal finding of an apply: the setting named by `field` was not enforced. */
export interface CgroupWarning {
  code: CgroupWarningCode;
  /** The spec field, e.g. `linux.resources.blockIO.weight`. */
  field: string;
  message: string;
}

/** What {@link CgroupDriver.create} and {@link CgroupDriver.update} report. */
export interface CgroupApplyReport {
  /** Settings that were not enforced, and why. */
  warnings: CgroupWarning[];
}

/** The freezer's state: `freezing` is v1's transitional state (v2 reports only the two ends). */
export type FreezerState = 'thawed' | 'freezing' | 'frozen';

/** One block I/O counter (docker's `blkio_stats.io_service_bytes_recursive` entry). */
export interface BlkioEntry {
  major: number;
  minor: number;
  /** `Read`, `Write`, `Sync`, `Async`, `Discard` or `Total`, as docker spells them. */
  op: string;
  value: number;
}

/** Resource usage of one cgroup, in the units docker's stats API uses. */
export interface CgroupStats {
  memory?: {
    /** Bytes in use (v1 memory.usage_in_bytes, v2 memory.current). */
    usage: number;
    /** The limit in bytes; absent when unlimited. */
    limit?: number;
    /** Peak usage (v1 max_usage_in_bytes, v2 memory.peak) when the kernel has it. */
    maxUsage?: number;
    /** v1 memory.failcnt. */
    failcnt?: number;
    /** memory.stat, key by key. */
    stat: Record<string, number>;
  };
  cpu?: {
    /** Total CPU time in nanoseconds. */
    totalUsageNs: number;
    /** Per-CPU time in nanoseconds (v1 cpuacct.usage_percpu; v2 has none). */
    perCpuNs?: number[];
    userNs?: number;
    systemNs?: number;
    throttling?: { periods: number; throttledPeriods: number; throttledTimeNs: number };
  };
  pids?: {
    current: number;
    /** Absent when unlimited. */
    limit?: number;
  };
  blkio?: { ioServiceBytes: BlkioEntry[] };
}

/** OOM counters of a cgroup. */
export interface OomEvents {
  /** Times the OOM killer killed a task of this cgroup. */
  oomKill: number;
  /** v1 `under_oom` (the cgroup is in OOM right now); v2 `oom` (times the limit was hit). */
  oom: number;
}

/** Options of the waiting operations. */
export interface CgroupWaitOptions {
  signal?: AbortSignal;
}

/**
 * A cgroup driver: creates a container's cgroup, applies `linux.resources` to it, places
 * processes, freezes, reports stats and OOM kills, and removes it.
 */
export interface CgroupDriver {
  /** 1 for the v1 (and hybrid) driver, 2 for the unified one. */
  readonly version: 1 | 2;
  /**
   * Creates the cgroup (in every v1 hierarchy, or the v2 tree with its controllers enabled up
   * the path) and applies `resources`. An existing cgroup is reused, as runc does.
   * @throws BerthError CGROUP_PATH_INVALID, CGROUP_RESOURCE_INVALID, CGROUP_WRITE_FAILED
   */
  create(path: string, resources?: LinuxResources, opts?: CgroupWaitOptions): Promise<CgroupApplyReport>;
  /**
   * Applies `resources` to an existing cgroup (`docker update`).
   * @throws BerthError CGROUP_NOT_FOUND, CGROUP_RESOURCE_INVALID, CGROUP_WRITE_FAILED
   */
  update(path: string, resources: LinuxResources, opts?: CgroupWaitOptions): Promise<CgroupApplyReport>;
  /**
   * Moves a process into the cgroup (every hierarchy, including name=systemd on v1).
   * @throws BerthError CGROUP_NOT_FOUND, CGROUP_WRITE_FAILED
   */
  addProcess(path: string, pid: number): Promise<void>;
  /**
   * The directories a process of the cgroup is in: one per v1 hierarchy (and the cgroup2 one of
   * a hybrid host), or the one of the v2 tree. berth-shim places a container's init in them
   * itself (launch key `cgroup`), which costs no RCU grace period as {@link addProcess} does.
   * @throws BerthError CGROUP_PATH_INVALID
   */
  directories(path: string): string[];
  /** The processes in the cgroup (empty when it does not exist). */
  pids(path: string): Promise<number[]>;
  /**
   * Freezes every task and resolves once the kernel reports the cgroup frozen.
   * @throws BerthError CGROUP_NOT_FOUND, CGROUP_UNSUPPORTED, CGROUP_FREEZE_TIMEOUT
   */
  freeze(path: string, opts?: CgroupWaitOptions): Promise<void>;
  /**
   * Thaws the cgroup and resolves once it is thawed.
   * @throws BerthError CGROUP_NOT_FOUND, CGROUP_UNSUPPORTED, CGROUP_FREEZE_TIMEOUT
   */
  thaw(path: string, opts?: CgroupWaitOptions): Promise<void>;
  /** @throws BerthError CGROUP_NOT_FOUND, CGROUP_UNSUPPORTED */
  freezerState(path: string): Promise<FreezerState>;
  /** @throws BerthError CGROUP_NOT_FOUND, CGROUP_READ_FAILED */
  stats(path: string): Promise<CgroupStats>;
  /**
   * OOM counters; read them after the container exited and before {@link destroy}.
   * @throws BerthError CGROUP_NOT_FOUND, CGROUP_UNSUPPORTED
   */
  oomEvents(path: string): Promise<OomEvents>;
  /** Whether the cgroup exists. */
  exists(path: string): Promise<boolean>;
  /**
   * Removes the cgroup. Waits briefly for exiting tasks to drain; with `force`, when the cgroup
   * still has tasks, it thaws and SIGKILLs them before each retry. A missing cgroup is not an
   * error. `concurrent`: one of many removals under way (`rm -f` of many): the rmdirs go to
   * the thread pool, each hierarchy's at once (v1), and overlap with the others'.
   * @throws BerthError CGROUP_BUSY, CGROUP_PATH_INVALID
   */
  destroy(
    path: string,
    opts?: { force?: boolean; concurrent?: boolean; signal?: AbortSignal },
  ): Promise<void>;
}

/** Passed to each controller's `apply`: collects the warnings of one apply (internal). */
export interface ApplyContext {
  warn(w: CgroupWarning): void;
  /** v2: attaches a device program to the cgroup directory (see {@link DeviceProgramLoader}). */
  loadDeviceProgram?: DeviceProgramLoader;
}

/**
 * Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[], host byte order) and attaches
 * it to a cgroup v2 directory, replacing the programs attached there before. The default runs
 * `berth-shim --device-filter` (Node cannot call bpf(2)).
 */
export type DeviceProgramLoader = (dir: string, program: Uint8Array) => Promise<void>;
