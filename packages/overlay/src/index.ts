export {
  type ApplyLayerOptions,
  type ApplyProgress,
  type ApplyResult,
  type ApplyTarget,
  applyLayer,
  applyTarget,
} from './apply.js';
export { ApplyThreads } from './apply-thread.js';
export { type Change, type ChangesOptions, snapshotChanges } from './changes.js';
export { type Compression, createDecompressor, sniffCompression } from './decompress.js';
export { type DiffOptions, type DiffResult, type DiffStream, diffLayer } from './diff.js';
export { MAX_TAR_META_BYTES, OverlayErrorCode } from './errors.js';
export { METADATA_VERSION, type SnapshotKind, type Usage } from './metadata.js';
export {
  commandMounter,
  MOUNT_DATA_LIMIT,
  type MountCommand,
  mountAll,
  mountCommand,
  unmount,
} from './mount.js';
export { cleanEntryPath, OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './paths.js';
export {
  type CommitOptions,
  type CreateSnapshotterOptions,
  createSnapshotter,
  type SnapshotInfo,
  type SnapshotOptions,
  type Snapshotter,
  type SnapshotterDriver,
  snapshotMounts,
} from './snapshotter.js';
export { toolFsCalls } from './tools.js';
export {
  type LayerToUnpack,
  removeStaleExtractions,
  type UnpackLayerOptions,
  type UnpackLayersOptions,
  type UnpackResult,
  unpackLayer,
  unpackLayers,
} from './unpack.js';
