/**
 * Progress events of pull and push, a typed union for the CLI's progress bars (one bar per blob,
 * keyed by `digest`) and the daemon's JSON progress messages.
 */
import type { Descriptor, Digest } from '@berth/oci';

/** What a blob is to the image. */
export type BlobKind = 'index' | 'manifest' | 'config' | 'layer';

/** A blob's state during a pull: every blob starts `waiting` and ends `exists` or `done`. */
export interface PullBlobEvent {
  type: 'blob';
  /** `waiting` → (`downloading`)* → `done`, or `waiting` → `exists` when the sink had it. */
  phase: 'waiting' | 'exists' | 'downloading' | 'done';
  kind: BlobKind;
  digest: Digest;
  mediaType: string;
  /** Bytes held so far. */
  current: number;
  /** The blob's size. */
  total: number;
}

/** Events of `pull`, in order: `resolved`, `platform` (from an index), `blob`…, `done`. */
export type PullEvent =
  | { type: 'resolved'; reference: string; descriptor: Descriptor }
  | { type: 'platform'; platform: string; descriptor: Descriptor }
  | PullBlobEvent
  | { type: 'done'; reference: string; root: Descriptor; manifest: Descriptor };

/** A blob's state during a push. */
export interface PushBlobEvent {
  type: 'blob';
  /**
   * `waiting` → `exists` (the registry had it), `mounted` (from `from`), or (`uploading`)* →
   * `done`.
   */
  phase: 'waiting' | 'exists' | 'mounted' | 'uploading' | 'done';
  kind: BlobKind;
  digest: Digest;
  mediaType: string;
  current: number;
  total: number;
  /** The repository a mounted blob came from. */
  from?: string;
}

/** Events of `push`: `blob`…, one `manifest` per manifest or index put, then `done`. */
export type PushEvent =
  | PushBlobEvent
  | { type: 'manifest'; reference: string; digest: Digest; mediaType: string }
  | { type: 'done'; reference: string; digest: Digest };
