/**
 * HTTP for the registry client, over undici: TLS with the system CAs plus extra ones, plain HTTP
 * only for loopback and registries configured as insecure, retries with backoff on 5xx, 429
 * (honouring `Retry-After`) and connection resets, connect and idle timeouts, and redirects
 * followed by hand so that `Authorization` never reaches another host and loops end in an error.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { type Logger, silentLogger } from '@berth/oci';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { errnoCode, networkError, RegistryError, type RegistryErrorContext } from './errors.js';

/** Options of the HTTP layer (part of the client's options). */
export interface TransportOptions {
  /** Extra CA certificates (PEM) trusted besides the system's, e.g. a private registry's CA. */
  ca?: string | readonly string[];
  /**
   * PEM files of extra CA certificates, read on the first HTTPS connection (never for plain
   * HTTP), as Node reads `NODE_EXTRA_CA_CERTS`. A file that cannot be read or holds no
   * certificate fails that connection with TLS_ERROR naming the file.
   */
  caFiles?: readonly string[];
  /**
   * Registries (`host` or `host:port`) that may be reached over plain HTTP. Loopback hosts
   * (`localhost`, `127.0.0.0/8`, `[::1]`) always may. HTTPS is tried first either way.
   */
  insecure?: readonly string[];
  /** Retries after the first attempt for 5xx, 429 and connection resets; default 4. */
  retries?: number;
  /** First backoff delay; doubles per retry with jitter; default 250 ms. */
  retryDelayMs?: number;
  /** Longest wait honoured from `Retry-After`; default 60 s. */
  maxRetryAfterMs?: number;
  /** TCP+TLS connect timeout; default 30 s. */
  connectTimeoutMs?: number;
  /** Longest silence while waiting for headers or between body chunks; default 60 s. */
  idleTimeoutMs?: number;
  /** `User-Agent` header; default `berth-registry`. */
  userAgent?: string;
  /** Structured logger; silent by default. */
  logger?: Logger;
}

/** A request body: bytes, or a function opening a fresh stream per attempt (for retries). */
export type RequestBody =
  | Uint8Array
  | string
  | (() => Readable | AsyncIterable<Uint8Array> | Promise<Readable | AsyncIterable<Uint8Array>>);

/** One request as the client hands it to {@link Transport.send}. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** `Authorization` value, sent only to `url`'s host (never across a redirect to another host). */
  authorization?: string;
  /** Retry on 5xx/429/resets (default true; off for non-replayable uploads). */
  retry?: boolean;
  /**
   * With `retry`, retry connection errors too (default true): off for a first request that
   * may find the server does not speak plain HTTP at all.
   */
  retryNetwork?: boolean;
  /** Follow 301/302/303/307/308 (default true for GET and HEAD, never for others). */
  followRedirects?: boolean;
  /**
   * Bytes the response body buffers before undici stops reading the socket; default 64 KiB.
   * Blob downloads use more, so a slow write does not stall the connection as often.
   */
  highWaterMark?: number;
  /** The operation and object named in errors. */
  operation: string;
  context: RegistryErrorContext;
  signal?: AbortSignal;
}

/** A response whose body the caller must consume or {@link discard}. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: URL;
}

/** What the first `GET /v2/` of a registry told us. */
export interface PingResult {
  /** `https://host` or `http://host`. */
  origin: string;
  status: number;
  /** The `WWW-Authenticate` header of a 401. */
  challenge?: string;
}

const MAX_REDIRECTS = 10;
const retryStatuses = new Set([429, 500, 502, 503, 504]);
const retryErrnos = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Size of the buffers plain-HTTP sockets read into (see {@link largeReads}). */
const READ_SLAB = 1024 * 1024;
/** The least room offered to one read; a slab with less left is replaced by a new one. */
const MIN_READ = 128 * 1024;

/** Read slabs kept for reuse, per transport (see {@link releaseChunks}). */
const POOLED_SLABS = 16;

/** What a slab holds: bytes read into it, bytes given back, whether reads moved on from it. */
interface SlabState {
  filled: number;
  released: number;
  retired: boolean;
  /** Where the slab goes once every byte read into it is given back. */
  pool: ArrayBuffer[];
}

const slabs = new WeakMap<ArrayBuffer, SlabState>();

function recycle(slab: ArrayBuffer, state: SlabState): void {
  if (!state.retired || state.released !== state.filled) return;
  slabs.delete(slab);
  if (state.pool.length < POOLED_SLABS) state.pool.push(slab);
}

/**
 * Gives read slabs back for reuse: the caller is done with `chunks` (views of a plain-HTTP
 * response body, as they came from the body stream) and holds no reference to their bytes. A
 * slab is reused once every byte read into it has been given back and reads have moved on to
 * another, so bytes nobody gives back (headers, a body read elsewhere) keep their slab out of
 * the pool for good. Reused slabs spare a fresh 1 MiB allocation per MiB received, whose pages
 * the kernel would fault in and zero during the socket read (~10,000 page faults per 150 MB).
 * Chunks that are not views of a read slab are ignored.
 */
export function releaseChunks(chunks: readonly Uint8Array[]): void {
  for (const c of chunks) {
    const state = slabs.get(c.buffer as ArrayBuffer);
    if (state === undefined) continue;
    state.released += c.byteLength;
    recycle(c.buffer as ArrayBuffer, state);
  }
}

/**
 * `net.connect`'s `onread` for one socket: a read may fill the rest of a 1 MiB slab instead of
 * Node's fixed 64 KiB buffer, so a blob body that arrives faster than it is consumed comes in
 * chunks of up to 1 MiB (about 130 reads for 120 MB where there were 1900; each chunk costs a
 * trip through the socket stream, undici's parser and the body stream, and that per-chunk work
 * was most of the main thread's time besides hashing). Each chunk is a view of its own bytes of
 * the slab, which is not written again until {@link releaseChunks} has every byte read into it
 * back (else it is freed with its last chunk). Slabs come from `pool`, shared by a transport's
 * sockets.
 */
function largeReads(pool: ArrayBuffer[]): {
  buffer: () => Buffer;
  callback: (this: Socket, n: number, buf: Buffer) => boolean;
} {
  let slab: Buffer | undefined;
  let state: SlabState | undefined;
  let used = 0;
  return {
    // offered after each read (Node calls it without `this`)
    buffer: () => {
      if (slab === undefined || slab.byteLength - used < MIN_READ) {
        if (slab !== undefined && state !== undefined) {
          state.retired = true;
          recycle(slab.buffer as ArrayBuffer, state);
        }
        const reused = pool.pop();
        slab = reused === undefined ? Buffer.allocUnsafe(READ_SLAB) : Buffer.from(reused);
        state = { filled: 0, released: 0, retired: false, pool };
        slabs.set(slab.buffer as ArrayBuffer, state);
        used = 0;
      }
      return slab.subarray(used);
    },
    // `buf` is what `buffer` offered; `false` stops reading until the socket is read from again
    callback(n, buf) {
      used += n;
      if (state !== undefined) state.filled += n;
      return this.push(buf.subarray(0, n));
    },
  };
}

/** Where Debian, Fedora and Alpine keep the system CA bundle. */
const systemBundles = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const pemBody = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');

/**
 * The TLS trust: Node's built-in roots, plus the system bundle's certificates Node lacks (the
 * distribution's additions and locally installed CAs), plus the caller's (`extra` PEM text and
 * the certificates of the PEM `files`; throws CA_FILE_UNREADABLE naming a file that cannot be
 * read or holds none). Building a context
 * from a full PEM bundle parses every certificate (~200 ms with OpenSSL 3); starting from Node's
 * pre-parsed roots and adding only the difference costs a fraction of that.
 */
export function trustedContext(extra: readonly string[], files: readonly string[] = []): SecureContext {
  const pems = [...extra];
  for (const file of files) {
    let found: string[] = [];
    try {
      found = readFileSync(file, 'utf8').match(pemBlock) ?? [];
    } catch (cause) {
      throw caFileError(file, (cause as Error).message, cause);
    }
    if (found.length === 0) throw caFileError(file, 'no PEM certificate in it');
    pems.push(...found);
  }
  const known = new Set(rootCertificates.map(pemBody));
  const add: string[] = [];
  // only certificates Node lacks are parsed again (an extra file is often the system bundle)
  const addNew = (pem: string) => {
    const body = pemBody(pem);
    if (known.has(body)) return;
    known.add(body);
    add.push(pem);
  };
  for (const path of systemBundles) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    for (const pem of text.match(pemBlock) ?? []) addNew(pem);
    break;
  }
  for (const pem of pems) addNew(pem);
  const context = createSecureContext();
  const native = (context as unknown as { context: { addCACert(pem: string): void } }).context;
  for (const pem of add) native.addCACert(pem);
  return context;
}

function caFileError(file: string, why: string, cause?: unknown): Error {
  return Object.assign(new Error(`cannot read extra CA certificates from ${file}: ${why}`), {
    code: 'CA_FILE_UNREADABLE',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Whether `host` (`name[:port]`) is loopback: `localhost`, `127.0.0.0/8` or `[::1]`. */
export function isLoopback(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds, or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** First value of a header. */
export function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads a body whole, refusing more than `limit` bytes (`onTooLarge` makes the error). */
export async function readLimited(
  body: HttpResponse['body'],
  limit: number,
  onTooLarge: () => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    n += b.byteLength;
    if (n > limit) {
      body.destroy();
      throw onTooLarge();
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, n);
}

/** Drops a body we do not need (keeps the connection reusable for small bodies). */
export async function discard(res: HttpResponse): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 });
  } catch {
    // the connection is closed instead
  }
}

/** Reads a small error body as text, bounded, never throwing. */
export async function errorText(res: HttpResponse): Promise<string> {
  try {
    return (await readLimited(res.body, 64 * 1024, () => new Error('too large'))).toString('utf8');
  } catch {
    return '';
  }
}

function retryable(err: unknown): boolean {
  const code = errnoCode(err);
  return code !== undefined && retryErrnos.has(code);
}

/**
 * The HTTP layer. One per client; holds the undici connection pool and which scheme each
 * registry speaks.
 */
export class Transport {
  readonly #agent: Agent;
  readonly #insecure: Set<string>;
  readonly #opts: Required<
    Pick<TransportOptions, 'retries' | 'retryDelayMs' | 'maxRetryAfterMs' | 'userAgent'>
  >;
  readonly #pings = new Map<string, Promise<PingResult>>();
  readonly logger: Logger;

  constructor(options: TransportOptions = {}) {
    const extra =
      options.ca === undefined ? [] : typeof options.ca === 'string' ? [options.ca] : [...options.ca];
    const caFiles = [...(options.caFiles ?? [])];
    const timeout = options.connectTimeoutMs ?? 30_000;
    // The TLS connector is built on first use, once: plain-http registries never pay for the CA
    // store. TLS sockets keep Node's reads (TLS records are 16 KiB at most anyway).
    let secure: buildConnector.connector | undefined;
    const slabPool: ArrayBuffer[] = [];
    const connect: buildConnector.connector = (opts, callback) => {
      if (opts.protocol === 'https:') {
        try {
          secure ??= buildConnector({ timeout, secureContext: trustedContext(extra, caFiles) });
        } catch (err) {
          callback(err as Error, null);
          return;
        }
        secure(opts, callback);
      } else {
        // one connector per socket, each with its own read slab (undici passes the options
        // it does not know to net.connect)
        const options = { timeout, onread: largeReads(slabPool) } as buildConnector.BuildOptions;
        buildConnector(options)(opts, callback);
      }
    };
    this.#agent = new Agent({
      connect,
      headersTimeout: options.idleTimeoutMs ?? 60_000,
      bodyTimeout: options.idleTimeoutMs ?? 60_000,
      keepAliveTimeout: 10_000,
    });
    this.#insecure = new Set(options.insecure ?? []);
    this.#opts = {
      retries: options.retries ?? 4,
      retryDelayMs: options.retryDelayMs ?? 250,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      userAgent: options.userAgent ?? 'berth-registry',
    };
    this.logger = options.logger ?? silentLogger;
  }

  /** Whether `host` may be reached over plain HTTP. */
  allowsHttp(host: string): boolean {
    if (isLoopback(host) || this.#insecure.has(host)) return true;
    return this.#insecure.has(host.replace(/:\d+$/, ''));
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /**
   * `GET /v2/` once per host (cached): finds the scheme (HTTPS, falling back to HTTP only when
   * allowed and the server does not speak TLS) and the auth challenge.
   */
  ping(host: string, context: RegistryErrorContext, signal?: AbortSignal): Promise<PingResult> {
    let p = this.#pings.get(host);
    if (p === undefined) {
      p = this.#ping(host, context, signal);
      this.#pings.set(host, p);
      p.catch(() => this.#pings.delete(host));
    }
    return p;
  }

  /**
   * Whether a request to `host` may go out before any ping: `host` is loopback (plain HTTP is
   * tried first there) and has not been pinged. See `Session.request`.
   */
  unpinged(host: string): boolean {
    return isLoopback(host) && !this.#pings.has(host);
  }

  /** Records what a request other than the ping told about `host` (see {@link unpinged}). */
  learn(host: string, result: PingResult): void {
    if (!this.#pings.has(host)) this.#pings.set(host, Promise.resolve(result));
  }

  /** Forgets what {@link ping} learnt about `host` (after credentials change). */
  forget(host: string): void {
    this.#pings.delete(host);
  }

  async #ping(host: string, context: RegistryErrorContext, signal?: AbortSignal): Promise<PingResult> {
    const attempt = async (origin: string, retry: boolean): Promise<PingResult> => {
      const res = await this.send({
        method: 'GET',
        url: new URL('/v2/', origin),
        retry,
        operation: 'ping',
        context,
        ...(signal ? { signal } : {}),
      });
      const challenge = header(res.headers, 'www-authenticate');
      await discard(res);
      return { origin, status: res.status, ...(challenge === undefined ? {} : { challenge }) };
    };
    if (isLoopback(host)) {
      // Loopback traffic never leaves the machine, so plain HTTP is tried first there: it spares
      // every local pull a TLS handshake and the CA store. A spec registry answers `GET /v2/`
      // with 200 or 401; a TLS-only server answers plain HTTP with 400 or a reset, and then
      // HTTPS is used.
      try {
        const plain = await attempt(`http://${host}`, false);
        if (plain.status === 200 || plain.status === 401) return plain;
      } catch (err) {
        signal?.throwIfAborted();
        this.logger.debug('loopback registry does not answer plain http', {
          host,
          error: (err as Error).message,
        });
      }
      return attempt(`https://${host}`, true);
    }
    try {
      return await attempt(`https://${host}`, true);
    } catch (err) {
      signal?.throwIfAborted();
      // Docker's rule for insecure registries: try TLS first, then plain HTTP. A certificate
      // problem is not a reason to downgrade; a server that answers TLS with plain HTTP is.
      const cause = (err as { cause?: unknown }).cause;
      const causeCode = errnoCode(cause);
      const causeMessage = String((cause as { message?: unknown } | undefined)?.message ?? '');
      const notTls =
        causeCode === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
        causeCode === 'ECONNRESET' ||
        causeCode === 'UND_ERR_SOCKET' ||
        /wrong version number|packet length too long/i.test(causeMessage);
      if (!notTls) throw err;
      if (!this.allowsHttp(host)) {
        throw new RegistryError(
          'INSECURE_REGISTRY',
          `ping ${host}: the registry does not speak https, and plain http is allowed only for loopback and insecure registries`,
          context,
          { cause: err },
        );
      }
      this.logger.debug('registry speaks plain http', { host });
      return attempt(`http://${host}`, true);
    }
  }

  /**
   * Sends a request with retries and redirects. Resolves with any HTTP status (the caller maps
   * errors); rejects with NETWORK_ERROR, TLS_ERROR, TOO_MANY_REDIRECTS, or the signal's reason.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const follow = req.followRedirects ?? (req.method === 'GET' || req.method === 'HEAD');
    const authHost = req.url.host;
    const visited = new Set<string>();
    let url = req.url;
    for (let hop = 0; ; hop++) {
      const res = await this.#sendWithRetries(
        req,
        url,
        url.host === authHost ? req.authorization : undefined,
      );
      const location = header(res.headers, 'location');
      if (!follow || ![301, 302, 303, 307, 308].includes(res.status) || location === undefined) return res;
      await discard(res);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (cause) {
        throw new RegistryError(
          'INVALID_RESPONSE',
          `${req.operation} ${url.host}: redirect to an invalid location ${JSON.stringify(location.slice(0, 200))}`,
          { ...req.context, status: res.status },
          { cause },
        );
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new RegistryError(
          'INVALID_RESPONSE',
          `${req.operation} ${url.host}: redirect to unsupported scheme ${next.protocol}`,
          { ...req.context, status: res.status },
        );
      }
      if (next.protocol === 'http:' && url.protocol === 'https:' && !this.allowsHttp(next.host)) {
        throw new RegistryError(
          'INSECURE_REGISTRY',
          `${req.operation} ${url.host}: refusing a redirect from https to plain http at ${next.host}`,
          { ...req.context, status: res.status },
        );
      }
      visited.add(url.href);
      if (visited.has(next.href) || hop + 1 >= MAX_REDIRECTS) {
        throw new RegistryError(
          'TOO_MANY_REDIRECTS',
          `${req.operation} ${req.url.host}: ${visited.has(next.href) ? 'redirect loop' : `more than ${MAX_REDIRECTS} redirects`} (last ${next.host}${next.pathname.slice(0, 100)})`,
          { ...req.context, status: res.status },
        );
      }
      this.logger.debug('following redirect', { from: url.host, to: next.host, status: res.status });
      url = next;
    }
  }

  async #sendWithRetries(
    req: HttpRequest,
    url: URL,
    authorization: string | undefined,
  ): Promise<HttpResponse> {
    const canRetry = req.retry ?? true;
    for (let attempt = 0; ; attempt++) {
      req.signal?.throwIfAborted();
      const last = !canRetry || attempt >= this.#opts.retries;
      let res: HttpResponse;
      try {
        res = await this.#once(req, url, authorization);
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (last || req.retryNetwork === false || !retryable(err))
          throw networkError(req.operation, url.host, err, req.context);
        const wait = this.#backoff(attempt);
        this.logger.debug('retrying after connection error', { url: url.href, code: errnoCode(err), wait });
        await sleep(wait, undefined, req.signal ? { signal: req.signal } : {});
        continue;
      }
      if (last || !retryStatuses.has(res.status)) return res;
      const after = parseRetryAfter(header(res.headers, 'retry-after'));
      if (after !== undefined && after > this.#opts.maxRetryAfterMs) return res;
      await discard(res);
      const wait = after ?? this.#backoff(attempt);
      this.logger.debug('retrying after status', { url: url.href, status: res.status, wait });
      await sleep(wait, undefined, req.signal ? { signal: req.signal } : {});
    }
  }

  #backoff(attempt: number): number {
    const base = this.#opts.retryDelayMs * 2 ** attempt;
    return Math.min(30_000, base / 2 + Math.random() * base);
  }

  async #once(req: HttpRequest, url: URL, authorization: string | undefined): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'user-agent': this.#opts.userAgent, ...req.headers };
    if (authorization !== undefined) headers.authorization = authorization;
    const body = typeof req.body === 'function' ? await req.body() : req.body;
    const res = await this.#agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers,
      body: (body ?? null) as Dispatcher.DispatchOptions['body'],
      ...(req.highWaterMark ? { highWaterMark: req.highWaterMark } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return { status: res.statusCode, headers: res.headers, body: res.body, url };
  }
}
