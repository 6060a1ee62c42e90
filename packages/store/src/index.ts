export {
  type ContentStore,
  type ContentStoreOptions,
  createContentStore,
  EMPTY_INDEX,
  type Info,
  type IngestStatus,
  OCI_LAYOUT,
  type ReaderAt,
  type RepairReport,
  type WriterOptions,
} from './content.js';
export { StoreErrorCode } from './errors.js';
export {
  type CollectGarbageOptions,
  type CollectGarbageResult,
  collectGarbage,
  type DiskUsage,
  diskUsage,
  type ImageUsage,
  type SnapshotCollector,
  type SnapshotEntry,
} from './gc.js';
export {
  createImageStore,
  type Image,
  type ImageFilters,
  type ImageRecord,
  type ImageStore,
  type ImageStoreOptions,
  REF_NAME_ANNOTATION,
  type RemoveOptions,
  type RemoveResult,
  type TagOptions,
} from './images.js';
export {
  type CreateLeaseOptions,
  createLeaseManager,
  type Lease,
  type LeaseManager,
  type LeaseManagerOptions,
  type LeaseResource,
  leaseExpired,
} from './leases.js';
export { createStore, type Store, type StoreOptions } from './store.js';
