/**
 * Pushing an image (distribution spec, "Pushing blobs", "Pushing manifests"): each blob is first
 * checked with `HEAD` and skipped when the registry has it, else mounted from another repository
 * of the same registry when one is known to hold it, else uploaded: one `PUT` for small blobs,
 * `PATCH` chunks then a closing `PUT` for large ones. Manifests go last (an index after its
 * manifests), and the digest returned is the one the registry reports.
 */
import type { Readable } from 'node:stream';
import {
  type Descriptor,
  type Digest,
  digestOf,
  formatReference,
  type ImageDocument,
  isBerthError,
  isDigest,
  MAX_DOCUMENT_BYTES,
  parseImageDocument,
  type Reference,
} from '@berth/oci';
import { repositoryScope } from './auth.js';
import { errorFromResponse, RegistryError, type RegistryErrorContext, refText } from './errors.js';
import { runPool } from './pool.js';
import type { BlobKind, PushEvent } from './progress.js';
import { protocolError, type Session } from './session.js';
import { discard, errorText, type HttpResponse, header } from './transport.js';

/** Where pushed content is read from. An {@link OciLayout} from `toLayout` is one. */
export interface PushSource {
  /** Opens a blob, or the byte range `start..end` (inclusive) of it. */
  open(digest: Digest, opts?: { start?: number; end?: number; signal?: AbortSignal }): Promise<Readable>;
  /** Reads a small blob (a manifest or index) whole, verified against its descriptor. */
  readBlob(desc: Descriptor, opts?: { maxBytes?: number; signal?: AbortSignal }): Promise<Buffer>;
}

/** Options of `push`. */
export interface PushOptions {
  /** Blobs uploaded at once; default 3. */
  concurrency?: number;
  /** Other repositories of the same registry to try a cross-repository mount from. */
  mountFrom?: readonly string[];
  /** Blobs up to this size go in one `PUT`; larger ones in `PATCH` chunks of this size. Default 32 MiB. */
  chunkSize?: number;
  onProgress?: (event: PushEvent) => void;
  signal?: AbortSignal;
}

/** What `push` did. */
export interface PushResult {
  /** The full normalised reference pushed to. */
  reference: string;
  /** The digest the registry reported for the top manifest or index. */
  digest: Digest;
  /** The top descriptor as pushed (with the registry's digest). */
  descriptor: Descriptor;
}

type Emit = (e: PushEvent) => void;

function contextOf(ref: Reference, reference?: string): RegistryErrorContext {
  return { registry: ref.registry, repository: ref.repository, ...(reference ? { reference } : {}) };
}

/** Counts bytes as they pass, for progress. */
async function* counting(stream: Readable, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream) {
    onBytes((chunk as Buffer).byteLength);
    yield chunk as Buffer;
  }
}

class Pusher {
  readonly #session: Session;
  readonly #ref: Reference;
  readonly #source: PushSource;
  readonly #emit: Emit;
  readonly #opts: PushOptions;
  readonly #chunkSize: number;
  readonly #endpoint: { host: string; credentialKey: string };
  readonly #pushed = new Set<string>();

  constructor(session: Session, ref: Reference, source: PushSource, options: PushOptions) {
    this.#session = session;
    this.#ref = ref;
    this.#source = source;
    this.#emit = options.onProgress ?? (() => {});
    this.#opts = options;
    this.#chunkSize = options.chunkSize ?? 32 * 1024 * 1024;
    if (!Number.isSafeInteger(this.#chunkSize) || this.#chunkSize < 1) {
      throw new RegistryError(
        'INVALID_OPTION',
        `push: chunkSize ${options.chunkSize} is not a positive integer`,
      );
    }
    this.#endpoint = session.endpoints(ref.registry, 'write')[0]!;
  }

  #scopes(extra: readonly string[] = []): string[] {
    return [repositoryScope(this.#ref.repository, ['pull', 'push']), ...extra];
  }

  #req(signal: AbortSignal | undefined) {
    return { ...this.#endpoint, ...(signal ? { signal } : {}) };
  }

  /** Pushes the graph under `desc` and returns the registry's digest of `desc`. */
  async pushTree(
    desc: Descriptor,
    tag: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Digest> {
    const bytes = await this.#source.readBlob(desc, {
      maxBytes: MAX_DOCUMENT_BYTES,
      ...(signal ? { signal } : {}),
    });
    let doc: ImageDocument;
    try {
      doc = parseImageDocument(bytes, desc.mediaType);
    } catch (err) {
      if (isBerthError(err)) {
        throw new RegistryError(
          err.code === 'MANIFEST_TOO_LARGE' || err.code === 'UNSUPPORTED_MEDIA_TYPE'
            ? err.code
            : 'INVALID_MANIFEST',
          `push ${refText(contextOf(this.#ref))}: ${desc.digest}: ${err.message}`,
          contextOf(this.#ref, desc.digest),
          { cause: err },
        );
      }
      throw err;
    }
    if (doc.kind === 'config') {
      throw new RegistryError(
        'INVALID_MANIFEST',
        `push ${refText(contextOf(this.#ref))}: ${desc.digest} is an image config, not a manifest`,
        contextOf(this.#ref),
      );
    }
    if (doc.kind === 'index') {
      for (const child of doc.index.manifests) await this.pushTree(child, undefined, signal);
    } else {
      const blobs: { desc: Descriptor; kind: BlobKind }[] = [
        { desc: doc.manifest.config, kind: 'config' as const },
        ...doc.manifest.layers.map((d) => ({ desc: d, kind: 'layer' as const })),
      ].filter((b) => !this.#pushed.has(b.desc.digest) && this.#pushed.add(b.desc.digest));
      for (const b of blobs) {
        this.#emit({
          type: 'blob',
          phase: 'waiting',
          kind: b.kind,
          digest: b.desc.digest,
          mediaType: b.desc.mediaType,
          current: 0,
          total: b.desc.size,
        });
      }
      await runPool(blobs, this.#opts.concurrency ?? 3, signal, (b, s) => this.#pushBlob(b.desc, b.kind, s));
    }
    return this.#putManifest(desc, doc.mediaType, bytes, tag ?? desc.digest, signal);
  }

  async #pushBlob(desc: Descriptor, kind: BlobKind, signal: AbortSignal): Promise<void> {
    const base = {
      type: 'blob' as const,
      kind,
      digest: desc.digest,
      mediaType: desc.mediaType,
      total: desc.size,
    };
    const repo = this.#ref.repository;
    const context = contextOf(this.#ref, desc.digest);
    // HEAD: skip what the registry already has in this repository.
    const head = await this.#session.request({
      ...this.#req(signal),
      method: 'HEAD',
      path: `/v2/${repo}/blobs/${desc.digest}`,
      scopes: this.#scopes(),
      operation: 'push',
      context,
    });
    await discard(head);
    if (head.status === 200) {
      this.#emit({ ...base, phase: 'exists', current: desc.size });
      this.#session.noteBlob(this.#ref.registry, desc.digest, repo);
      return;
    }
    if (head.status !== 404) {
      throw errorFromResponse({ operation: 'push', subject: 'blob', status: head.status, body: '', context });
    }
    // Cross-repository mount from a repository known to hold the blob.
    const candidates = [
      ...new Set([
        ...(this.#opts.mountFrom ?? []),
        ...this.#session.blobRepos(this.#ref.registry, desc.digest),
      ]),
    ].filter((r) => r !== repo);
    let location: string | undefined;
    for (const from of candidates) {
      const res = await this.#session.request({
        ...this.#req(signal),
        method: 'POST',
        path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`,
        headers: { 'content-length': '0' },
        scopes: this.#scopes([repositoryScope(from, ['pull'])]),
        operation: 'push',
        context,
      });
      if (res.status === 201) {
        await discard(res);
        this.#emit({ ...base, phase: 'mounted', current: desc.size, from });
        this.#session.noteBlob(this.#ref.registry, desc.digest, repo);
        return;
      }
      if (res.status === 202) {
        // The registry could not mount and opened an upload instead: use it.
        location = this.#location(res, context);
        await discard(res);
        break;
      }
      // A mount the registry refuses (no access to `from`) is not fatal: upload instead.
      this.#session.logger.debug('cross-repository mount refused', {
        from,
        status: res.status,
        digest: desc.digest,
      });
      await discard(res);
    }
    location ??= await this.#startUpload(context, signal);
    let sent = 0;
    let lastReport = 0;
    const onBytes = (n: number) => {
      sent += n;
      if (sent - lastReport >= 256 * 1024 || sent === desc.size) {
        lastReport = sent;
        this.#emit({ ...base, phase: 'uploading', current: sent, total: desc.size });
      }
    };
    let final: HttpResponse;
    if (desc.size <= this.#chunkSize) {
      const url = new URL(location);
      url.searchParams.set('digest', desc.digest);
      final = await this.#session.request({
        ...this.#req(signal),
        method: 'PUT',
        path: url.href,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
        body: async () => {
          sent = 0;
          return counting(await this.#source.open(desc.digest, { signal }), onBytes);
        },
        // The body is a stream opened per attempt; a repeated PUT of the whole blob is safe.
        retry: false,
        scopes: this.#scopes(),
        operation: 'push',
        context,
      });
    } else {
      for (let start = 0; start < desc.size; start += this.#chunkSize) {
        const end = Math.min(desc.size, start + this.#chunkSize) - 1;
        const res = await this.#session.request({
          ...this.#req(signal),
          method: 'PATCH',
          path: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${start}-${end}`,
            'content-length': String(end - start + 1),
          },
          body: async () => {
            sent = start;
            return counting(await this.#source.open(desc.digest, { start, end, signal }), onBytes);
          },
          retry: false,
          scopes: this.#scopes(),
          operation: 'push',
          context,
        });
        if (res.status !== 202) {
          throw errorFromResponse({
            operation: 'push',
            subject: 'upload',
            status: res.status,
            body: await errorText(res),
            context,
          });
        }
        location = this.#location(res, context);
        await discard(res);
        this.#session.logger.debug('uploaded chunk', { digest: desc.digest, start, end });
      }
      const url = new URL(location);
      url.searchParams.set('digest', desc.digest);
      final = await this.#session.request({
        ...this.#req(signal),
        method: 'PUT',
        path: url.href,
        headers: { 'content-length': '0' },
        scopes: this.#scopes(),
        operation: 'push',
        context,
      });
    }
    if (final.status !== 201) {
      throw errorFromResponse({
        operation: 'push',
        subject: 'upload',
        status: final.status,
        body: await errorText(final),
        context,
      });
    }
    const reported = header(final.headers, 'docker-content-digest');
    await discard(final);
    if (reported !== undefined && reported !== desc.digest) {
      throw new RegistryError(
        'DIGEST_MISMATCH',
        `push ${refText(context)}: registry stored the blob as ${reported.slice(0, 150)}`,
        context,
      );
    }
    this.#session.noteBlob(this.#ref.registry, desc.digest, repo);
    this.#emit({ ...base, phase: 'done', current: desc.size });
  }

  async #startUpload(context: RegistryErrorContext, signal: AbortSignal): Promise<string> {
    const res = await this.#session.request({
      ...this.#req(signal),
      method: 'POST',
      path: `/v2/${this.#ref.repository}/blobs/uploads/`,
      headers: { 'content-length': '0' },
      scopes: this.#scopes(),
      operation: 'push',
      context,
    });
    if (res.status !== 202) {
      throw errorFromResponse({
        operation: 'push',
        subject: 'upload',
        status: res.status,
        body: await errorText(res),
        context,
      });
    }
    const location = this.#location(res, context);
    await discard(res);
    return location;
  }

  /** The upload `Location` of a response, absolute; http(s) only. */
  #location(res: HttpResponse, context: RegistryErrorContext): string {
    const value = header(res.headers, 'location');
    if (value === undefined) throw protocolError('push', 'upload response without Location', context);
    let url: URL;
    try {
      url = new URL(value, res.url);
    } catch {
      throw protocolError('push', `invalid upload Location ${JSON.stringify(value.slice(0, 200))}`, context);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw protocolError('push', `upload Location with scheme ${url.protocol}`, context);
    }
    if (
      url.protocol === 'http:' &&
      res.url.protocol === 'https:' &&
      !this.#session.transport.allowsHttp(url.host)
    ) {
      throw new RegistryError(
        'INSECURE_REGISTRY',
        `push ${refText(context)}: upload Location downgrades to plain http at ${url.host}`,
        context,
      );
    }
    return url.href;
  }

  async #putManifest(
    desc: Descriptor,
    mediaType: string,
    bytes: Buffer,
    reference: string,
    signal: AbortSignal | undefined,
  ): Promise<Digest> {
    const context = contextOf(this.#ref, reference);
    const res = await this.#session.request({
      ...this.#req(signal),
      method: 'PUT',
      path: `/v2/${this.#ref.repository}/manifests/${reference}`,
      headers: { 'content-type': desc.mediaType || mediaType },
      body: bytes,
      scopes: this.#scopes(),
      operation: 'push',
      context,
    });
    if (res.status !== 201 && res.status !== 200) {
      throw errorFromResponse({
        operation: 'push',
        subject: 'manifest',
        status: res.status,
        body: await errorText(res),
        context,
      });
    }
    const reported = header(res.headers, 'docker-content-digest');
    await discard(res);
    const local = digestOf(bytes);
    let digest: Digest = local;
    if (reported !== undefined) {
      if (!isDigest(reported))
        throw protocolError(
          'push',
          `invalid Docker-Content-Digest ${JSON.stringify(reported.slice(0, 150))}`,
          context,
        );
      if (reported !== desc.digest) {
        this.#session.logger.warn('registry reports another manifest digest', {
          local: desc.digest,
          reported,
        });
      }
      digest = reported;
    }
    this.#emit({ type: 'manifest', reference, digest, mediaType: desc.mediaType || mediaType });
    return digest;
  }
}

/**
 * Pushes the image whose top manifest or index is `desc` in `source` to `ref` (tagged with
 * `ref.tag`; by digest when the reference has only a digest). Throws UNAUTHORIZED, DENIED,
 * NAME_UNKNOWN, BLOB_UNKNOWN, DIGEST_MISMATCH, SIZE_MISMATCH, MANIFEST_TOO_LARGE,
 * UNSUPPORTED_MEDIA_TYPE, INVALID_MANIFEST, NETWORK_ERROR, TLS_ERROR, and LAYOUT_INVALID from a
 * layout source.
 */
export async function pushImage(
  session: Session,
  source: PushSource,
  desc: Descriptor,
  ref: Reference,
  options: PushOptions = {},
): Promise<PushResult> {
  const concurrency = options.concurrency ?? 3;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RegistryError('INVALID_OPTION', `push: concurrency ${concurrency} is not a positive integer`);
  }
  const pusher = new Pusher(session, ref, source, options);
  const tag = ref.tag ?? ref.digest;
  const digest = await pusher.pushTree(desc, tag, options.signal);
  if (ref.digest !== undefined && digest !== ref.digest) {
    throw new RegistryError(
      'DIGEST_MISMATCH',
      `push ${formatReference(ref)}: registry reports digest ${digest}`,
      contextOf(ref, ref.digest),
    );
  }
  const reference = formatReference(ref);
  options.onProgress?.({ type: 'done', reference, digest });
  return { reference, digest, descriptor: { ...desc, digest } };
}
