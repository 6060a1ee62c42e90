export {
  CAPABILITY_BITS,
  type CapabilitySets,
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
  type NamespaceType,
  type Propagation,
} from './launch-spec.js';
export {
  BUNDLED_SHIM_PATH,
  LocateShimErrorCode,
  type LocateShimOptions,
  locateShim,
  SHIM_NAME,
} from './locate-shim.js';
export {
  type ContainerState,
  type ContainerStatus,
  type CreateOptions,
  createRuntime,
  type Runtime,
  RuntimeErrorCode,
  type RuntimeOptions,
} from './runtime.js';
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
  buildSpec,
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH_ENV,
  DEFAULT_READONLY_PATHS,
  DEFAULT_SHM_SIZE,
  SpecErrorCode,
} from './spec.js';
export { type ResolvedUser, resolveUser, UserErrorCode } from './user.js';
