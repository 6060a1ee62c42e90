/**
 * Progress of image operations, shaped as docker's jsonmessage (`{ id, status, progressDetail }`)
 * so the CLI renders it with docker's layout and the daemon streams it unchanged.
 */

/**
 * One progress update. With an `id` (a short layer digest, or a tag for `Pulling from`) it
 * updates that line; without one it is a line of its own (`Digest: sha256:…`, `Status: …`).
 */
export interface ImageProgressEvent {
  /** Event type, versioned like every berth event. */
  type: 'image.progress.v1';
  /** The line it updates: 12 hex digits of a layer digest, or a tag. */
  id?: string;
  /**
   * docker's words: `Pulling from library/busybox`, `Pulling fs layer`, `Waiting`,
   * `Downloading`, `Verifying Checksum`, `Download complete`, `Extracting`, `Pull complete`,
   * `Already exists`, `Preparing`, `Pushing`, `Pushed`, `Layer already exists`,
   * `Mounted from …`, `Digest: …`, `Status: …`, `Loading layer`.
   */
  status: string;
  /** Bytes done, for `Downloading`, `Extracting`, `Pushing`, `Loading layer`. */
  current?: number;
  /** Bytes in all. */
  total?: number;
}

/** Receives {@link ImageProgressEvent}s. */
export type ImageProgressHandler = (event: ImageProgressEvent) => void;

/** docker's short layer id: 12 hex digits of the digest. */
export function shortId(digest: string): string {
  const i = digest.indexOf(':');
  return digest.slice(i + 1, i + 13);
}

/** Builds an event. */
export function progress(status: string, id?: string, current?: number, total?: number): ImageProgressEvent {
  const e: ImageProgressEvent = { type: 'image.progress.v1', status };
  if (id !== undefined) e.id = id;
  if (current !== undefined) e.current = current;
  if (total !== undefined) e.total = total;
  return e;
}
