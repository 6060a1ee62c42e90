/**
 * Types of the OCI runtime-spec v1.2 `config.json` (Linux parts), as `@berth/runtime` builds
 * them and runc/crun read them. Types only; field names are the spec's JSON names.
 */

/** The root of `config.json`. */
export interface Spec {
  /** Runtime-spec version, e.g. `1.2.0`. */
  ociVersion: string;
  /** The container process. */
  process?: Process;
  /** The root filesystem. */
  root?: Root;
  /** Container hostname (needs a UTS namespace). */
  hostname?: string;
  /** Container domain name (needs a UTS namespace). */
  domainname?: string;
  /** Additional mounts, in order. */
  mounts?: SpecMount[];
  /** Lifecycle hooks. */
  hooks?: Hooks;
  /** Arbitrary metadata. */
  annotations?: Record<string, string>;
  /** Linux-specific configuration. */
  linux?: Linux;
}

/** The container process. */
export interface Process {
  /** Allocate a pseudo-terminal. */
  terminal?: boolean;
  /** Initial console size when `terminal` is set. */
  consoleSize?: Box;
  /** Identity of the process. */
  user: User;
  /** argv; `args[0]` is resolved in the container's PATH. */
  args?: string[];
  /** Whole command line (Windows only). */
  commandLine?: string;
  /** `NAME=value` environment. */
  env?: string[];
  /** Absolute working directory inside the container. */
  cwd: string;
  /** Capability sets. */
  capabilities?: LinuxCapabilities;
  /** Resource limits (setrlimit). */
  rlimits?: POSIXRlimit[];
  /** Set `no_new_privs`. */
  noNewPrivileges?: boolean;
  /** AppArmor profile name. */
  apparmorProfile?: string;
  /** OOM score adjustment. */
  oomScoreAdj?: number;
  /** SELinux process label. */
  selinuxLabel?: string;
  /** I/O priority. */
  ioPriority?: LinuxIOPriority;
  /** Scheduler settings. */
  scheduler?: Scheduler;
  /** CPU affinity. */
  execCPUAffinity?: { initial?: string; final?: string };
}

/** Width and height of a terminal. */
export interface Box {
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
}

/** Identity of the container process. */
export interface User {
  /** User ID inside the container. */
  uid: number;
  /** Group ID inside the container. */
  gid: number;
  /** File mode creation mask. */
  umask?: number;
  /** Supplementary group IDs. */
  additionalGids?: number[];
  /** User name (Windows). */
  username?: string;
}

/** Linux capability sets; entries are `CAP_*` names. */
export interface LinuxCapabilities {
  /** Bounding set. */
  bounding?: string[];
  /** Effective set. */
  effective?: string[];
  /** Inheritable set. */
  inheritable?: string[];
  /** Permitted set. */
  permitted?: string[];
  /** Ambient set. */
  ambient?: string[];
}

/** One resource limit. */
export interface POSIXRlimit {
  /** `RLIMIT_NOFILE`, `RLIMIT_NPROC`, ... */
  type: string;
  /** Hard limit. */
  hard: number;
  /** Soft limit. */
  soft: number;
}
/** Alias for {@link POSIXRlimit}. */
export type Rlimit = POSIXRlimit;

/** I/O priority (ioprio_set). */
export interface LinuxIOPriority {
  /** `IOPRIO_CLASS_RT`, `IOPRIO_CLASS_BE` or `IOPRIO_CLASS_IDLE`. */
  class: string;
  /** Priority within the class. */
  priority: number;
}

/** Scheduler settings (sched_setattr). */
export interface Scheduler {
  /** `SCHED_OTHER`, `SCHED_FIFO`, ... */
  policy: string;
  /** Nice value. */
  nice?: number;
  /** Static priority. */
  priority?: number;
  /** `SCHED_FLAG_*` flags. */
  flags?: string[];
  /** Deadline runtime, ns. */
  runtime?: number;
  /** Deadline, ns. */
  deadline?: number;
  /** Deadline period, ns. */
  period?: number;
}

/** The container's root filesystem. */
export interface Root {
  /** Path to the root, absolute or relative to the bundle. */
  path: string;
  /** Mount it read-only. */
  readonly?: boolean;
}

/** A mount in the spec (named to avoid clashing with `Mount`, the overlay/runtime lingua franca). */
export interface SpecMount {
  /** Absolute destination inside the container. */
  destination: string;
  /** Filesystem type. */
  type?: string;
  /** Source device or path. */
  source?: string;
  /** mount(8) options. */
  options?: string[];
  /** ID-mapped mount: UID mappings. */
  uidMappings?: LinuxIDMapping[];
  /** ID-mapped mount: GID mappings. */
  gidMappings?: LinuxIDMapping[];
}

/** One hook. */
export interface Hook {
  /** Absolute path to the executable. */
  path: string;
  /** argv. */
  args?: string[];
  /** Environment. */
  env?: string[];
  /** Seconds before the hook is aborted. */
  timeout?: number;
}

/** Lifecycle hooks. */
export interface Hooks {
  /** Deprecated: after the namespaces are created. */
  prestart?: Hook[];
  /** After the runtime environment is created, in the runtime namespace. */
  createRuntime?: Hook[];
  /** After the runtime environment is created, in the container namespace. */
  createContainer?: Hook[];
  /** Before the user process starts, in the container namespace. */
  startContainer?: Hook[];
  /** After the user process starts. */
  poststart?: Hook[];
  /** After the container is deleted. */
  poststop?: Hook[];
}

/** Linux namespace kinds. */
export type LinuxNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

/** A namespace to create, or to join when `path` is set. */
export interface LinuxNamespace {
  /** Kind. */
  type: LinuxNamespaceType;
  /** Existing namespace to join (`/proc/<pid>/ns/net`). */
  path?: string;
}

/** A user-namespace ID mapping. */
export interface LinuxIDMapping {
  /** First ID inside the container. */
  containerID: number;
  /** First ID on the host. */
  hostID: number;
  /** Number of IDs. */
  size: number;
}

/** A device node to create in the container. */
export interface LinuxDevice {
  /** Path inside the container. */
  path: string;
  /** `c`, `b`, `u` or `p`. */
  type: string;
  /** Major number. */
  major?: number;
  /** Minor number. */
  minor?: number;
  /** File mode. */
  fileMode?: number;
  /** Owner UID. */
  uid?: number;
  /** Owner GID. */
  gid?: number;
}

/** A device cgroup rule. */
export interface LinuxDeviceCgroup {
  /** Allow or deny. */
  allow: boolean;
  /** `a`, `c` or `b`. */
  type?: string;
  /** Major number; absent means all. */
  major?: number;
  /** Minor number; absent means all. */
  minor?: number;
  /** Any of `r`, `w`, `m`. */
  access?: string;
}

/** Memory cgroup limits (bytes). */
export interface LinuxMemory {
  /** Limit. */
  limit?: number;
  /** Soft limit. */
  reservation?: number;
  /** Memory + swap limit. */
  swap?: number;
  /** Deprecated kernel memory limit. */
  kernel?: number;
  /** Deprecated kernel TCP memory limit. */
  kernelTCP?: number;
  /** Swappiness 0-100. */
  swappiness?: number;
  /** Disable the OOM killer. */
  disableOOMKiller?: boolean;
  /** Enable hierarchical accounting. */
  useHierarchy?: boolean;
  /** Check the limit before lowering it. */
  checkBeforeUpdate?: boolean;
}

/** CPU cgroup settings. */
export interface LinuxCPU {
  /** Relative share. */
  shares?: number;
  /** CFS quota per period, µs. */
  quota?: number;
  /** Burst, µs. */
  burst?: number;
  /** CFS period, µs. */
  period?: number;
  /** Realtime runtime, µs. */
  realtimeRuntime?: number;
  /** Realtime period, µs. */
  realtimePeriod?: number;
  /** Allowed CPUs (`0-3,5`). */
  cpus?: string;
  /** Allowed memory nodes. */
  mems?: string;
  /** SCHED_IDLE for the cgroup. */
  idle?: number;
}

/** PIDs cgroup limit. */
export interface LinuxPids {
  /** Maximum number of tasks; -1 or absent for none. */
  limit?: number;
}

/** A per-device block I/O weight. */
export interface LinuxWeightDevice {
  /** Major number. */
  major: number;
  /** Minor number. */
  minor: number;
  /** Weight. */
  weight?: number;
  /** Leaf weight. */
  leafWeight?: number;
}

/** A per-device block I/O rate limit. */
export interface LinuxThrottleDevice {
  /** Major number. */
  major: number;
  /** Minor number. */
  minor: number;
  /** Rate (bytes or operations per second). */
  rate: number;
}

/** Block I/O cgroup settings. */
export interface LinuxBlockIO {
  /** Default weight. */
  weight?: number;
  /** Default leaf weight. */
  leafWeight?: number;
  /** Per-device weights. */
  weightDevice?: LinuxWeightDevice[];
  /** Read bytes/s limits. */
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  /** Write bytes/s limits. */
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  /** Read IO/s limits. */
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  /** Write IO/s limits. */
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

/** Huge page limit. */
export interface LinuxHugepageLimit {
  /** Page size (`2MB`). */
  pageSize: string;
  /** Limit in bytes. */
  limit: number;
}

/** Network cgroup settings (v1). */
export interface LinuxNetwork {
  /** net_cls class ID. */
  classID?: number;
  /** net_prio priorities. */
  priorities?: Array<{ name: string; priority: number }>;
}

/** cgroup resource settings. */
export interface LinuxResources {
  /** Device allow/deny list, applied in order. */
  devices?: LinuxDeviceCgroup[];
  /** Memory. */
  memory?: LinuxMemory;
  /** CPU. */
  cpu?: LinuxCPU;
  /** PIDs. */
  pids?: LinuxPids;
  /** Block I/O. */
  blockIO?: LinuxBlockIO;
  /** Huge pages. */
  hugepageLimits?: LinuxHugepageLimit[];
  /** Network. */
  network?: LinuxNetwork;
  /** RDMA limits per device. */
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  /** cgroup v2 key/value settings (`memory.high`). */
  unified?: Record<string, string>;
}

/** Seccomp actions. */
export type LinuxSeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

/** Seccomp argument comparison operators. */
export type LinuxSeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

/** A condition on one syscall argument. */
export interface LinuxSeccompArg {
  /** Argument index, 0-5. */
  index: number;
  /** Value compared against. */
  value: number;
  /** Second value (mask for `SCMP_CMP_MASKED_EQ`). */
  valueTwo?: number;
  /** Operator. */
  op: LinuxSeccompOperator;
}

/** A rule for a set of syscalls. */
export interface LinuxSyscall {
  /** Syscall names. */
  names: string[];
  /** Action when they match. */
  action: LinuxSeccompAction;
  /** errno for `SCMP_ACT_ERRNO`. */
  errnoRet?: number;
  /** Argument conditions, all of which must hold. */
  args?: LinuxSeccompArg[];
}

/** A seccomp filter. */
export interface LinuxSeccomp {
  /** Action for syscalls no rule matches. */
  defaultAction: LinuxSeccompAction;
  /** errno for a default `SCMP_ACT_ERRNO`. */
  defaultErrnoRet?: number;
  /** `SCMP_ARCH_*` architectures the filter covers. */
  architectures?: string[];
  /** `SECCOMP_FILTER_FLAG_*` flags. */
  flags?: string[];
  /** Unix socket of a seccomp agent. */
  listenerPath?: string;
  /** Metadata for the agent. */
  listenerMetadata?: string;
  /** Rules. */
  syscalls?: LinuxSyscall[];
}

/** Intel RDT settings. */
export interface LinuxIntelRdt {
  /** Class of service. */
  closID?: string;
  /** L3 cache schema. */
  l3CacheSchema?: string;
  /** Memory bandwidth schema. */
  memBwSchema?: string;
}

/** Personality (execution domain). */
export interface LinuxPersonality {
  /** `LINUX` or `LINUX32`. */
  domain: string;
  /** Flags. */
  flags?: string[];
}

/** Linux-specific configuration. */
export interface Linux {
  /** User namespace UID mappings. */
  uidMappings?: LinuxIDMapping[];
  /** User namespace GID mappings. */
  gidMappings?: LinuxIDMapping[];
  /** Time namespace offsets. */
  timeOffsets?: Record<string, { secs?: number; nanosecs?: number }>;
  /** Kernel parameters (`net.ipv4.ip_forward`). */
  sysctl?: Record<string, string>;
  /** cgroup resources. */
  resources?: LinuxResources;
  /** cgroup path (absolute, relative, or `slice:prefix:name` for systemd). */
  cgroupsPath?: string;
  /** Namespaces to create or join. */
  namespaces?: LinuxNamespace[];
  /** Device nodes to create. */
  devices?: LinuxDevice[];
  /** Seccomp filter. */
  seccomp?: LinuxSeccomp;
  /** Propagation of the root mount: `private`, `rprivate`, `slave`, `rslave`, `shared`, `rshared`, `unbindable`. */
  rootfsPropagation?: string;
  /** Paths masked (bind of /dev/null or an empty tmpfs). */
  maskedPaths?: string[];
  /** Paths made read-only. */
  readonlyPaths?: string[];
  /** SELinux mount label. */
  mountLabel?: string;
  /** Intel RDT. */
  intelRdt?: LinuxIntelRdt;
  /** Personality. */
  personality?: LinuxPersonality;
}
