/**
 * Container types in the Docker Engine API's shapes (`ContainerInspect`, `ContainerSummary`),
 * so `berthd` can serve them unchanged, and the options of the container service.
 */
import type { HealthConfig, ContainerConfig as ImageContainerConfig, LinuxIDMapping } from '@berth/oci';
import type { ImageProgressHandler } from '../progress.js';

/** docker's `State.Health.Status`. */
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe, as docker's `HealthcheckResult`. */
export interface HealthLogEntry {
  /** RFC 3339 nano. */
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** docker's `State.Health`. */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

/** `--health-*` flags as data (durations in nanoseconds, as docker's API). */
export interface HealthOptions {
  /** `--health-cmd`: run with the shell (`CMD-SHELL`). */
  cmd?: string;
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  retries?: number;
  /** `--no-healthcheck`. */
  none?: boolean;
}

/** docker's container states. */
export type ContainerStatus =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'removing'
  | 'exited'
  | 'dead';

/** docker's `State` of `ContainerInspect`. */
export interface ContainerStateInfo {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  /** RFC 3339 nano; `0001-01-01T00:00:00Z` when never. */
  StartedAt: string;
  FinishedAt: string;
  /** Present when the container has a health check (docker's `State.Health`). */
  Health?: HealthState;
}

/** docker's `Config` of a container. */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  /** The image's HEALTHCHECK merged with `--health-*` (durations in ns). */
  Healthcheck?: HealthConfig;
}

/** docker's restart policy. */
export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount: number;
}

/** docker's `HostConfig` (the fields berth implements). */
export interface HostConfig {
  NetworkMode: 'none' | 'host';
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  LogConfig: { Type: 'json-file'; Config: Record<string, string> };
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  /** docker's `--init` (left out unless set, as docker does). */
  Init?: boolean;
  SecurityOpt: string[] | null;
  Tmpfs: Record<string, string> | null;
  Memory: number;
  MemorySwap: number;
  NanoCpus: number;
  PidsLimit: number | null;
  Ulimits: { Name: string; Soft: number; Hard: number }[] | null;
  Runtime: string;
  /** docker's `--userns`: `host`, or "" (the default: none, or `--uidmap` maps). */
  UsernsMode?: string;
  ShmSize: number;
  Binds: string[] | null;
  PortBindings: Record<string, unknown>;
}

/** What berth keeps per container (`config.v2.json`, version 1). */
export interface ContainerRecord {
  version: 1;
  Id: string;
  /** RFC 3339 nano. */
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerStateInfo;
  /** The image ID (`sha256:…`). */
  Image: string;
  /** `/name`. */
  Name: string;
  RestartCount: number;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  /** Set by stop/kill from a user, for `unless-stopped` and `always` (docker's HasBeenManuallyStopped). */
  ManuallyStopped: boolean;
  /** The delay before the last policy restart, ms (docker's restart manager timeout). */
  RestartDelayMs?: number;
  /** The image's config section, kept so the container starts even after `rmi -f`. */
  ImageConfig: ImageContainerConfig;
  /** Overlay snapshot: key (the container ID) and parent (the image's top chain ID). */
  Snapshot: { key: string; parent: string | null };
  /** Options the spec is built from at each start (the parts not in Config/HostConfig). */
  Spec: {
    ulimits: Record<string, { soft: number; hard: number }>;
    seccomp?: 'unconfined';
    /** The user namespace's maps (`--uidmap`/`--gidmap`); absent: the host's (no user namespace). */
    idMappings?: { uidMappings: LinuxIDMapping[]; gidMappings: LinuxIDMapping[] };
  };
  Platform: string;
}

/** docker's `ContainerInspect`. */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerStateInfo;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: unknown[];
  Config: ContainerConfig;
  NetworkSettings: {
    Bridge: string;
    SandboxID: string;
    SandboxKey: string;
    Ports: Record<string, unknown>;
    Networks: Record<string, unknown>;
  };
}

/** docker's `ContainerSummary` (`GET /containers/json`). */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  Ports: unknown[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: ContainerStatus;
  /** `Up 3 seconds`, `Exited (0) 5 seconds ago`, `Created`. */
  Status: string;
  HostConfig: { NetworkMode: string };
  Mounts: unknown[];
}

/** Options of {@link ContainerService.create} — `docker create`'s flags as data. */
export interface CreateContainerOptions {
  /** The image reference or ID. */
  image: string;
  /** The command after the image (replaces the image's Cmd). */
  cmd?: string[];
  /** `--entrypoint`; `[]` clears the image's. */
  entrypoint?: string[];
  name?: string;
  /** `NAME=value` (a bare `NAME` takes the value of `envLookup(NAME)` or is dropped, as docker). */
  env?: string[];
  /** Looks up bare `-e NAME` values; default none. */
  envLookup?: (name: string) => string | undefined;
  workdir?: string;
  user?: string;
  hostname?: string;
  labels?: Record<string, string>;
  /** `missing` (default), `always`, `never`. */
  pull?: 'missing' | 'always' | 'never';
  platform?: string;
  readOnly?: boolean;
  /** docker's `--init`: PID 1 is berth-init, which forwards signals and reaps orphans. */
  init?: boolean;
  /** path → options. */
  tmpfs?: Record<string, string>;
  /** Bytes. */
  memory?: number;
  cpus?: number;
  pidsLimit?: number;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** `--security-opt` values: `seccomp=unconfined`, `no-new-privileges[:true]`. */
  securityOpt?: string[];
  /** `--ulimit nofile=1024:2048` values. */
  ulimits?: string[];
  stopSignal?: string;
  stopTimeout?: number;
  /** `none` (default until bridge networks exist) or `host`. */
  network?: string;
  /** `berth` (default). */
  runtime?: string;
  /**
   * `--userns`: `host` (the default, no user namespace). With `uidmap`, the container gets a
   * user namespace with those maps (podman's `--uidmap CONTAINER:HOST:SIZE`); `gidmap`
   * defaults to the same maps, as podman does.
   */
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
  /** `--log-opt` `max-size=10m`, `max-file=3`. */
  logOpts?: Record<string, string>;
  /** `no`, `on-failure[:N]`, `always`, `unless-stopped`. */
  restart?: string;
  autoRemove?: boolean;
  /** `--health-cmd`, `--health-interval`… and `--no-healthcheck`. */
  health?: HealthOptions;
  /** `-t`: the process runs on a terminal (Config.Tty). */
  tty?: boolean;
  /** `-i`: the container keeps a stdin pipe open for attached clients (Config.OpenStdin). */
  openStdin?: boolean;
  /** The first attached client's EOF closes that stdin (Config.StdinOnce; `run -i`). */
  stdinOnce?: boolean;
  /** Streams to attach (`-a`), recorded in Config. */
  attach?: ('stdin' | 'stdout' | 'stderr')[];
  /** Pull progress (docker's jsonmessage events). */
  onProgress?: ImageProgressHandler;
  /** Called before a pull starts (the CLI prints `Unable to find image '…' locally`). */
  onPullStart?: (ref: string) => void;
  signal?: AbortSignal;
}

/** Filters of {@link ContainerService.list}, as `docker ps --filter` takes them. */
export interface ListContainersOptions {
  /** Include stopped containers (`-a`). */
  all?: boolean;
  /** The last n created (`-n`); implies all. */
  limit?: number;
  /** Disk usage of each container's writable layer (`-s`). */
  size?: boolean;
  /**
   * `status=`, `name=`, `label=`, `ancestor=`, `exited=`, `id=`, `health=` (starting, healthy,
   * unhealthy, none) — several values of one key: any.
   */
  filters?: Record<string, string[]>;
  signal?: AbortSignal;
}

/** Options of {@link ContainerService.logs}. */
export interface LogsOptions {
  follow?: boolean;
  /** Unix seconds (fractional allowed), or an RFC 3339 time, or a duration such as `10m`. */
  since?: string;
  until?: string;
  /** Last n lines (`all` or undefined for every line). */
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
  signal?: AbortSignal;
}

/** One json-file log entry. */
export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** The bytes as written, with the trailing newline when there was one. */
  log: string;
  /** RFC 3339 nano. */
  time: string;
}

/** The result of {@link ContainerService.wait}. */
export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

/** `container prune`'s answer. */
export interface ContainerPruneReport {
  ContainersDeleted: string[];
  SpaceReclaimed: number;
}
