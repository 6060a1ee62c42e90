export type {
  ContentSink,
  ContentWriter,
} from './content-sink.js';
export { type CryptoProvider, randomBytes, randomInt, setCryptoProvider, sha256 } from './crypto.js';
export { type Descriptor, type Platform, parseDescriptor } from './descriptor.js';
export {
  chainId,
  chainIds,
  createDigester,
  createVerifier,
  type Digest,
  type DigestAlgorithm,
  DigestErrorCode,
  type Digester,
  type DigestOptions,
  digestOf,
  isDigest,
  type ParseDigestOptions,
  parseDigest,
  splitDigest,
  type Verifier,
  type VerifierOptions,
  verifyingStream,
} from './digest.js';
export { humanDuration } from './duration.js';
export {
  BerthError,
  type BerthErrorOptions,
  type ErrorInput,
  InternalError,
  InternalErrorCode,
  isBerthError,
} from './errors.js';
export type {
  FileLock,
  FileLocker,
  FileLockOptions,
  LockDirLibrary,
  PollingLockerOptions,
} from './file-lock.js';
export { lockQueue, pollingLocker, withFileLock } from './file-lock.js';
export type { FsCalls } from './fs-calls.js';
export {
  type ContainerConfig,
  type HealthConfig,
  type HistoryEntry,
  type ImageConfig,
  type ParseImageConfigOptions,
  parseImageConfig,
} from './image-config.js';
export { type ImageDocument, type ParseImageDocumentOptions, parseImageDocument } from './image-document.js';
export { type Index, type ParseIndexOptions, parseIndex } from './image-index.js';
export { type LogFields, type Logger, silentLogger } from './logger.js';
export { type Manifest, type ParseManifestOptions, parseManifest } from './manifest.js';
export {
  baseMediaType,
  type IndexMediaType,
  isConfigType,
  isIndexType,
  isLayerType,
  isManifestType,
  isNondistributableLayerType,
  isSchema1Type,
  type LayerCompression,
  layerCompression,
  type ManifestMediaType,
  MediaType,
} from './media-types.js';
export type { Mount, Mounter } from './mount.js';
export {
  availablePlatforms,
  compatiblePlatforms,
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  PlatformErrorCode,
  parsePlatform,
  platformMatches,
  platformNotFound,
  selectManifest,
} from './platform.js';
export {
  DEFAULT_REGISTRY,
  DEFAULT_TAG,
  familiarName,
  familiarReference,
  formatReference,
  isReference,
  MAX_REPOSITORY_LENGTH,
  parseReference,
  parseTag,
  type Reference,
  ReferenceErrorCode,
  referenceName,
  withDefaultTag,
} from './reference.js';
export { REMOVE_TREE_SYNC_BUDGET, removeTree } from './remove-tree.js';
export type {
  Box,
  Hook,
  Hooks,
  Linux,
  LinuxBlockIO,
  LinuxCapabilities,
  LinuxCPU,
  LinuxDevice,
  LinuxDeviceCgroup,
  LinuxHugepageLimit,
  LinuxIDMapping,
  LinuxIntelRdt,
  LinuxIOPriority,
  LinuxMemory,
  LinuxNamespace,
  LinuxNamespaceType,
  LinuxNetwork,
  LinuxPersonality,
  LinuxPids,
  LinuxResources,
  LinuxSeccomp,
  LinuxSeccompAction,
  LinuxSeccompArg,
  LinuxSeccompOperator,
  LinuxSyscall,
  LinuxThrottleDevice,
  LinuxWeightDevice,
  POSIXRlimit,
  Process,
  Rlimit,
  Root,
  Scheduler,
  Spec,
  SpecMount,
  User,
} from './runtime-spec.js';
export { isoTime, isoTimeNano } from './time.js';
export { ImageErrorCode, MAX_DOCUMENT_BYTES, type ParseDocumentOptions } from './validate.js';
