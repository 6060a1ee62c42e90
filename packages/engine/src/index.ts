export type { LoadImageOptions, LoadImageResult, SaveImageOptions } from './archive.js';
export {
  createEngine,
  type Engine,
  type EngineOptions,
  type EngineRegistryOptions,
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
