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
