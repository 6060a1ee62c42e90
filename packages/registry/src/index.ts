export {
  type Challenge,
  type CredentialProvider,
  type Credentials,
  parseChallenges,
  repositoryScope,
} from './auth.js';
export { type BlobProgress, type FetchBlobOptions, parseContentRange } from './blobs.js';
export {
  type CallOptions,
  type ClientPushOptions,
  type ClientPushSource,
  createRegistryClient,
  type RegistryClient,
  type RegistryClientOptions,
} from './client.js';
export {
  DOCKER_HUB_SERVER,
  type DockerAuthEntry,
  type DockerConfig,
  type DockerConfigOptions,
  defaultDockerConfigDir,
  dockerConfigCredentials,
  getCredentials,
  type LoginOptions,
  type LogoutOptions,
  login,
  logout,
  readDockerConfig,
} from './docker-config.js';
export {
  isRegistryError,
  RegistryError,
  RegistryErrorCode,
  type RegistryErrorContext,
} from './errors.js';
export {
  type LayoutEntry,
  type LayoutOptions,
  type OciLayout,
  REF_NAME_ANNOTATION,
  toLayout,
} from './layout-sink.js';
export type { BlobKind, PullBlobEvent, PullEvent, PushBlobEvent, PushEvent } from './progress.js';
export type { PullOptions, PullResult } from './pull.js';
export type { PushOptions, PushResult, PushSource } from './push.js';
export { type FetchedManifest, MANIFEST_ACCEPT, type ReferenceInput } from './resolve.js';
export type { TransportOptions } from './transport.js';
