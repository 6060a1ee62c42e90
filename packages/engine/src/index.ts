export type { AttachEnd } from '@berth/runtime';
export type { LoadImageOptions, LoadImageResult, SaveImageOptions } from './archive.js';
export type { ContainerAttachment, ContainerAttachOptions, TerminalSize } from './containers/attach.js';
export type { ContainerChange } from './containers/changes.js';
export { applyChanges, type CommitOptions } from './containers/commit.js';
export { ContainerErrorCode } from './containers/errors.js';
export {
  appendEvent,
  type EngineEvent,
  EVENT_FILTER_KEYS,
  EVENTS_FILE,
  EVENTS_MAX_BYTES,
  type EventInput,
  type EventType,
  eventMatches,
  makeEvent,
  type ReadEventsOptions,
  readEvents,
} from './containers/events.js';
export type { ContainerExecOptions, ContainerExecResult } from './containers/exec.js';
export type { ExportOptions } from './containers/export.js';
export {
  applyProbe,
  HEALTH_DEFAULTS,
  mergeHealthcheck,
  probeArgs,
} from './containers/health.js';
export { ADJECTIVES, NAME_RE, randomName, SURNAMES } from './containers/names.js';
export {
  type ExitFacts,
  RESTART_DELAY_MAX_MS,
  RESTART_DELAY_MIN_MS,
  type RestartDecision,
  restartDecision,
  startsAtBoot,
} from './containers/restart.js';
export type {
  BootReport,
  ContainerHooks,
  ContainerService,
  ContainerServiceOptions,
  StartOptions,
} from './containers/service.js';
export type { ContainerNetworkStats, ContainerStatsResponse } from './containers/stats.js';
export { statusText, ZERO_TIME } from './containers/status.js';
export { type ContainerTop, parsePs } from './containers/top.js';
export type {
  ContainerConfig,
  ContainerInspect,
  ContainerPruneReport,
  ContainerStateInfo,
  ContainerStatus,
  ContainerSummary,
  CreateContainerOptions,
  HealthLogEntry,
  HealthOptions,
  HealthState,
  HealthStatus,
  HostConfig,
  ListContainersOptions,
  LogEntry,
  LogsOptions,
  RestartPolicy,
  WaitResult,
} from './containers/types.js';
export {
  parseGoDuration,
  parseRamBytes,
  parseRestartPolicy,
  parseSignal,
  parseTimestamp,
  parseUlimit,
} from './containers/units.js';
export type { DiskUsage, ImageUsageItem, UsageTotals } from './disk-usage.js';
export {
  createEngine,
  type Engine,
  type EngineOptions,
  type EngineRegistryOptions,
  type EventsOptions,
  type ImageService,
} from './engine.js';
export { EngineErrorCode } from './errors.js';
export type {
  ImageDeleteItem,
  ImageDiskUsage,
  ImageHistoryItem,
  ImageInspect,
  ImagePruneReport,
  ImageSummary,
  ListImagesOptions,
} from './images.js';
export type { ImageProgressEvent, ImageProgressHandler } from './progress.js';
export type { PullImageOptions, PullImageResult } from './pull.js';
export type { LoginOptions, PushImageOptions, PushImageResult } from './remote.js';
export type { SystemInfo } from './system.js';
