export {
  type AttachEnd,
  AttachErrorCode,
  type AttachHandle,
  type AttachOptions,
  DEFAULT_DETACH_KEYS,
  DetachFilter,
  FrameDecoder,
  parseDetachKeys,
} from './attach.js';
export {
  DOCKER_CPU_PERIOD,
  DOCKER_MIN_MEMORY,
  type DockerResourceOptions,
  dockerResources,
} from './cgroups/docker.js';
export { type CreateCgroupDriverOptions, createCgroupDriver } from './cgroups/driver.js';
export {
  type CgroupHost,
  detectCgroupHost,
  type MountinfoEntry,
  parseMountinfo,
  V1_CONTROLLERS,
  type V1Hierarchy,
} from './cgroups/mountinfo.js';
export { containerCgroupPath, DEFAULT_CGROUP_PARENT, validateCgroupPath } from './cgroups/path.js';
export {
  type BlkioEntry,
  type CgroupApplyReport,
  type CgroupDriver,
  CgroupErrorCode,
  type CgroupStats,
  type CgroupWaitOptions,
  type CgroupWarning,
  type CgroupWarningCode,
  type DeviceProgramLoader,
  type FreezerState,
  type OomEvents,
} from './cgroups/types.js';
export { type CgroupV1DriverOptions, createCgroupV1Driver } from './cgroups/v1/driver.js';
export { cpuMax, sharesToWeight } from './cgroups/v2/cpu.js';
export {
  type BpfInsn,
  compileDeviceFilter,
  type DeviceException,
  type DeviceList,
  deviceProgram,
  emulateDeviceRules,
  encodeProgram,
} from './cgroups/v2/device-filter.js';
export { addonDeviceProgramLoader, shimDeviceProgramLoader } from './cgroups/v2/device-loader.js';
export { type CgroupV2DriverOptions, createCgroupV2Driver } from './cgroups/v2/driver.js';
export { swapOnly } from './cgroups/v2/memory.js';
export {
  type ExecLaunchContext,
  type ExecOptions,
  type ExecResult,
  execLaunch,
} from './exec.js';
export {
  hostId,
  IdMapErrorCode,
  type IdmapLayersOptions,
  type IdmappedMountOptions,
  idmapLayers,
  idmappedMount,
  parseIdMappings,
  releaseIdmapLayers,
} from './idmap.js';
export {
  BUNDLED_INIT_PATH,
  INIT_NAME,
  INIT_PATH_IN_CONTAINER,
  InitErrorCode,
  locateInit,
  withInit,
} from './init.js';
export {
  CAPABILITY_BITS,
  type CapabilitySets,
  checkIdMappings,
  decodeField,
  encodeField,
  encodeLaunch,
  LAUNCH_VERSION,
  type LaunchDescription,
  type LaunchDevice,
  type LaunchExtras,
  type LaunchMount,
  type LaunchRlimit,
  LaunchSpecErrorCode,
  launchFromSpec,
  MAX_ID_MAPPINGS,
  type NamespaceType,
  type Propagation,
  type ShimHooks,
} from './launch-spec.js';
export {
  BUNDLED_SHIM_PATH,
  LocateShimErrorCode,
  type LocateShimOptions,
  locateShim,
  SHIM_NAME,
} from './locate-shim.js';
export { NATIVE_BUILD_DIR } from './native-build.js';
export { type NetworkStats, networkStats, parseNetDev, pidNamespaceMembers } from './net-stats.js';
export {
  type ContainerState,
  type ContainerStats,
  type ContainerStatus,
  type CreateOptions,
  createRuntime,
  type ExitResult,
  type Runtime,
  RuntimeErrorCode,
  type RuntimeOptions,
} from './runtime.js';
export {
  AUDIT_ARCH,
  BPF_MAXINSNS,
  type CompileSeccompOptions,
  compileSeccomp,
  encodeSockFilters,
  SECCOMP_RET,
  type SeccompProgram,
  type SockFilter,
  syscallNumber,
  X32_SYSCALL_BIT,
} from './seccomp/compile.js';
export { runSeccompFilter, type SeccompData, SeccompFilterErrorCode } from './seccomp/interpret.js';
export {
  defaultSeccomp,
  defaultSeccompProfile,
  hostSeccompArch,
  type ParsedSeccompProfile,
  parseSeccompProfile,
  type ResolveSeccompOptions,
  resolveSeccompProfile,
  SCMP_ARCHES,
  type SeccompArch,
  type SeccompArchMapEntry,
  SeccompErrorCode,
  type SeccompProfile,
  type SeccompProfileFilter,
  type SeccompProfileSyscall,
} from './seccomp/profile.js';
export {
  type ControlReply,
  type ExitRecord,
  type LaunchStep,
  parseExitRecord,
  parseShimMessage,
  SHIM_EXIT,
  type ShimFailure,
  ShimProtocolErrorCode,
  type SyncMessage,
} from './shim-protocol.js';
export {
  type BuildSpecOptions,
  boundingCapabilities,
  buildSpec,
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH_ENV,
  DEFAULT_READONLY_PATHS,
  DEFAULT_SHM_SIZE,
  SpecErrorCode,
} from './spec.js';
export { BUNDLED_SYS_ADDON_PATH, gunzipAddonPath, INFLATE_ADDON_NAME, SYS_ADDON_NAME } from './sys/addon.js';
export { sysCryptoProvider } from './sys/crypto.js';
export { SysErrorCode } from './sys/errors.js';
export { renameExchange, syscallFsCalls } from './sys/fs.js';
export { type FileLock, flockLocker, lockDir, lockFile, lockFileShared, withLock } from './sys/lock.js';
export {
  type MountFlags,
  mount,
  mountOptions,
  syscallMounter,
  unmount,
  unmountAsync,
  unmountIfMounted,
} from './sys/mount.js';
export { type ResolvedUser, resolveUser, UserErrorCode } from './user.js';
