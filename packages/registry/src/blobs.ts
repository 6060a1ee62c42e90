/**
 * Downloading blobs (distribution spec, "Pulling blobs"): the body is verified while it streams
 * (size and digest), written into a content sink, and committed only when it matches. An
 * interrupted download resumes with `Range` where the registry honours it. Redirects to blob
 * storage are followed by the transport without the `Authorization` header.
 */
import { pipeline, type Readable } from 'node:stream';
import {
  type ContentSink,
  type ContentWriter,
  type Descriptor,
  isBerthError,
  type Reference,
  verifyingStream,
} from '@berth/oci';
import { repositoryScope } from './auth.js';
import { errorFromResponse, RegistryError, type RegistryErrorContext, refText } from './errors.js';
import { protocolError, type Session } from './session.js';
import { discard, errorText, type HttpResponse, header, releaseChunks } from './transport.js';

/** Progress of one blob: bytes held so far out of the total. */
export type BlobProgress = (current: number, total: number) => void;

/** Options of {@link fetchBlob}. */
export interface FetchBlobOptions {
  /** Ingest name in the sink (resumable across processes); default `<registry>/<repo>@<digest>`. */
  ingestRef?: string;
  /** How many times an interrupted body is resumed; default 5. */
  maxResumes?: number;
  /** Called as bytes arrive (at most every 256 KiB, and at the end). */
  onProgress?: BlobProgress;
  /**
   * Called once every byte is in the sink, before its commit (fsync, rename): a caller limiting
   * concurrent downloads can start the next one while this blob commits.
   */
  onReceived?: () => void;
  signal?: AbortSignal;
}

/** Bytes gathered from the network before one write into the sink. */
const WRITE_BATCH = 1024 * 1024;

/** Bytes a blob body buffers while the sink is busy before undici stops reading the socket. */
const BODY_HIGH_WATER_MARK = 2 * WRITE_BATCH;

/**
 * A content writer, with the optional extensions of this package's layout sink: `writev` takes
 * several chunks in one call (no concatenation), `release` closes without dropping the ingest,
 * `keepsNoChunks` says a chunk is free for reuse once its write settled (the transport's read
 * buffers are then reused, see `releaseChunks`).
 */
type BatchWriter = ContentWriter & {
  writev?(chunks: Buffer[], n: number): Promise<void>;
  release?(): Promise<void>;
  readonly keepsNoChunks?: boolean;
};

/** What {@link pump} needs: the room left for the blob, how to write, how to report an overrun. */
interface PumpOptions {
  /** Bytes the body may still carry; one more is an overrun. */
  room: number;
  /** Writes a batch (`n` bytes in `chunks`); called one at a time, in order. */
  write(chunks: Buffer[], n: number): Promise<void>;
  /** The error for a body that carries `got` bytes, more than `room`. */
  overrun(got: number): Error;
}

/**
 * Copies a response body into `write` in batches of ~{@link WRITE_BATCH} bytes. The body flows
 * ('data' events, no async iterator, no per-chunk promise) while a batch is written, and pauses
 * only when the next batch is full before the previous write finished. Settles after the last
 * write. A body that errors with an interruption (reset, timeout) still has what arrived before
 * written, for a resume; an overrun or a write error drops what is not yet written.
 */
function pump(body: HttpResponse['body'], opts: PumpOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let batch: Buffer[] = [];
    let batched = 0;
    let seen = 0;
    let writing = false;
    let paused = false;
    let ended = false;
    let failure: { err: unknown; keep: boolean } | undefined;
    let settled = false;
    const settle = () => {
      if (settled || writing) return;
      if (failure !== undefined) {
        if (failure.keep && batched > 0) return next();
        settled = true;
        reject(failure.err);
      } else if (ended) {
        if (batched > 0) return next();
        settled = true;
        resolve();
      }
    };
    const next = () => {
      const chunks = batch;
      const n = batched;
      batch = [];
      batched = 0;
      writing = true;
      opts.write(chunks, n).then(
        () => {
          writing = false;
          if (paused && failure === undefined) {
            paused = false;
            body.resume();
          }
          if (batched >= WRITE_BATCH && failure === undefined) next();
          else settle();
        },
        (err: unknown) => {
          writing = false;
          failure = { err, keep: false };
          body.destroy();
          settle();
        },
      );
    };
    body.on('data', (chunk: Buffer) => {
      if (failure !== undefined) return;
      seen += chunk.byteLength;
      if (seen > opts.room) {
        failure = { err: opts.overrun(seen), keep: false };
        body.destroy();
        settle();
        return;
      }
      batch.push(chunk);
      batched += chunk.byteLength;
      if (batched < WRITE_BATCH) return;
      if (!writing) next();
      else if (!paused) {
        paused = true;
        body.pause();
      }
    });
    body.on('end', () => {
      ended = true;
      settle();
    });
    body.on('error', (err: Error) => {
      failure ??= { err, keep: interrupted(err) };
      settle();
    });
    body.on('close', () => {
      if (!ended && failure === undefined) failure = { err: new Error('body closed early'), keep: false };
      settle();
    });
  });
}

/** Codes after which a partial ingest is worthless and is dropped. */
const badContent = new Set(['DIGEST_MISMATCH', 'SIZE_MISMATCH', 'INVALID_RESPONSE', 'BLOB_UNKNOWN']);

/** Parses `Content-Range: bytes START-END/TOTAL`. */
export function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total?: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/.exec(value.trim());
  if (m === null) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) return undefined;
  return { start, end, ...(m[3] === '*' ? {} : { total: Number(m[3]) }) };
}

function blobContext(repo: Reference, desc: Descriptor): RegistryErrorContext {
  return { registry: repo.registry, repository: repo.repository, reference: desc.digest };
}

function contentLength(res: HttpResponse): number | undefined {
  const v = header(res.headers, 'content-length');
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}

/** An error from reading a body that a retry with `Range` may cure. */
function interrupted(err: unknown): boolean {
  if (isBerthError(err)) return err.code === 'NETWORK_ERROR';
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    [
      'UND_ERR_SOCKET',
      'UND_ERR_BODY_TIMEOUT',
      'ECONNRESET',
      'UND_ERR_ABORTED',
      'EPIPE',
      'ETIMEDOUT',
    ].includes(code)
  );
}

async function request(
  session: Session,
  endpoint: { host: string; credentialKey: string },
  repo: Reference,
  desc: Descriptor,
  from: number,
  signal: AbortSignal | undefined,
): Promise<HttpResponse> {
  return session.request({
    ...endpoint,
    method: 'GET',
    path: `/v2/${repo.repository}/blobs/${desc.digest}`,
    headers: from > 0 ? { range: `bytes=${from}-` } : {},
    highWaterMark: BODY_HIGH_WATER_MARK,
    scopes: [repositoryScope(repo.repository, ['pull'])],
    operation: 'fetch blob',
    context: blobContext(repo, desc),
    ...(signal ? { signal } : {}),
  });
}

/**
 * Downloads one blob into `sink`, verified: a body longer than `desc.size` is cut off at the
 * first extra byte, a shorter one or one with another digest is refused, and in either case
 * the ingest is dropped and nothing is committed. A body that stops mid-way is resumed with a
 * `Range` request (or restarted when the registry ignores `Range`). An ingest left by an earlier
 * process resumes from its offset; the sink's commit then checks the digest.
 * Throws DIGEST_MISMATCH, SIZE_MISMATCH, BLOB_UNKNOWN, NETWORK_ERROR, TOO_MANY_REDIRECTS, …
 */
export async function fetchBlob(
  session: Session,
  repo: Reference,
  desc: Descriptor,
  sink: ContentSink,
  options: FetchBlobOptions = {},
): Promise<void> {
  const { signal } = options;
  const context = blobContext(repo, desc);
  const ingestRef = options.ingestRef ?? `${repo.registry}/${repo.repository}@${desc.digest}`;
  const maxResumes = options.maxResumes ?? 5;
  await session.withReadEndpoints(repo.registry, signal, async (endpoint) => {
    // Sizes are checked here as bytes arrive; the digest is computed by the sink as it writes
    // and checked by its commit (the ContentSink contract, as containerd's content writers do),
    // so each byte is hashed once.
    let writer: BatchWriter = await sink.writer({ ref: ingestRef, desc, ...(signal ? { signal } : {}) });
    let received = writer.offset;
    let lastReport = 0;
    const report = (force = false) => {
      if (options.onProgress && (force || received - lastReport >= 256 * 1024)) {
        lastReport = received;
        options.onProgress(received, desc.size);
      }
    };
    const restart = async () => {
      await writer.abort();
      writer = await sink.writer({ ref: ingestRef, desc, ...(signal ? { signal } : {}) });
      received = writer.offset;
    };
    try {
      if (received > desc.size) await restart();
      report(true);
      for (let resumes = 0; received < desc.size || (received === 0 && desc.size === 0); ) {
        const res = await request(session, endpoint, repo, desc, received, signal);
        if (res.status === 200 && received > 0) {
          // The registry ignored Range: start over from byte 0.
          session.logger.debug('registry ignored Range, restarting blob', { digest: desc.digest });
          await restart();
        } else if (res.status === 206) {
          const range = parseContentRange(header(res.headers, 'content-range'));
          if (
            range === undefined ||
            range.start !== received ||
            (range.total !== undefined && range.total !== desc.size)
          ) {
            await discard(res);
            throw protocolError(
              'fetch blob',
              `${desc.digest}: bad Content-Range for bytes=${received}-`,
              context,
            );
          }
        } else if (res.status !== 200) {
          throw errorFromResponse({
            operation: 'fetch blob',
            subject: 'blob',
            status: res.status,
            body: await errorText(res),
            context,
          });
        }
        const length = contentLength(res);
        if (length !== undefined && received + length !== desc.size) {
          res.body.destroy();
          throw new RegistryError(
            'SIZE_MISMATCH',
            `fetch blob ${refText(context)}: size mismatch (expected ${desc.size} bytes, registry sends ${received + length})`,
            { ...context, status: res.status },
          );
        }
        // Network chunks are ~64 KiB; the sink gets ~1 MiB at a time (one writev, no copy).
        const start = received;
        try {
          await pump(res.body, {
            room: desc.size - received,
            overrun: (got) =>
              new RegistryError(
                'SIZE_MISMATCH',
                `fetch blob ${refText(context)}: size mismatch (expected ${desc.size} bytes, got at least ${start + got})`,
                { ...context, status: res.status },
              ),
            write: async (chunks, n) => {
              if (writer.writev) await writer.writev(chunks, n);
              else await writer.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n));
              if (writer.keepsNoChunks === true) releaseChunks(chunks);
              received += n;
              report();
            },
          });
        } catch (err) {
          // pump wrote what arrived before an interruption: it is kept for the resume.
          if (signal?.aborted) throw signal.reason;
          if (!interrupted(err) || resumes >= maxResumes) {
            if (interrupted(err)) {
              throw new RegistryError(
                'NETWORK_ERROR',
                `fetch blob ${refText(context)}: body interrupted at byte ${received} of ${desc.size} (${maxResumes} resumes tried): ${(err as Error).message}`,
                context,
                { cause: err },
              );
            }
            throw err;
          }
          resumes++;
          session.logger.debug('blob body interrupted, resuming', {
            digest: desc.digest,
            at: received,
            resumes,
          });
          continue;
        }
        if (received < desc.size) {
          throw new RegistryError(
            'SIZE_MISMATCH',
            `fetch blob ${refText(context)}: size mismatch (expected ${desc.size} bytes, got ${received})`,
            { ...context, status: res.status },
          );
        }
        if (desc.size === 0) break;
      }
      options.onReceived?.();
      try {
        await writer.commit(desc.size, desc.digest);
      } catch (err) {
        if (isBerthError(err, 'DIGEST_MISMATCH') || isBerthError(err, 'SIZE_MISMATCH')) {
          throw new RegistryError(err.code, `fetch blob ${refText(context)}: ${err.message}`, context, {
            cause: err,
          });
        }
        throw err;
      }
      report(true);
    } catch (err) {
      if (isBerthError(err) && badContent.has(err.code)) {
        await writer.abort().catch(() => {});
      } else {
        // Keep the partial ingest for a later resume, but let go of its resources.
        await writer.release?.().catch(() => {});
      }
      throw err;
    }
  });
}

/**
 * Opens a blob as a verified stream: the stream errors with SIZE_MISMATCH at the first byte
 * past `desc.size`, and at its end with SIZE_MISMATCH or DIGEST_MISMATCH. Consumers must treat
 * what they read as unverified until the stream ends without error.
 */
export async function openBlob(
  session: Session,
  repo: Reference,
  desc: Descriptor,
  options: { signal?: AbortSignal } = {},
): Promise<Readable> {
  const context = blobContext(repo, desc);
  return session.withReadEndpoints(repo.registry, options.signal, async (endpoint) => {
    const res = await request(session, endpoint, repo, desc, 0, options.signal);
    if (res.status !== 200) {
      throw errorFromResponse({
        operation: 'fetch blob',
        subject: 'blob',
        status: res.status,
        body: await errorText(res),
        context,
      });
    }
    const length = contentLength(res);
    if (length !== undefined && length !== desc.size) {
      res.body.destroy();
      throw new RegistryError(
        'SIZE_MISMATCH',
        `fetch blob ${refText(context)}: size mismatch (expected ${desc.size} bytes, registry sends ${length})`,
        { ...context, status: res.status },
      );
    }
    const verify = verifyingStream({ digest: desc.digest, size: desc.size });
    // pipeline destroys `verify` with the body's error, so a reader sees every failure.
    pipeline(res.body, verify, () => {});
    return verify;
  });
}
