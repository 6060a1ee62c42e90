/**
 * Internal: authenticated requests to a registry's API, with mirror fallback for reads. Every
 * operation (resolve, blobs, pull, push) goes through {@link Session.request}. Not exported from
 * the package.
 */
import type { Logger } from '@berth/oci';
import { type Authenticator, challengeOf } from './auth.js';
import { RegistryError, type RegistryErrorContext } from './errors.js';
import {
  discard,
  type HttpRequest,
  type HttpResponse,
  header,
  type PingResult,
  type Transport,
} from './transport.js';

/** Docker Hub's API host: `docker.io` references are served by `registry-1.docker.io`. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

/** A repository on a registry. */
export interface Repo {
  /** Registry name as in references (`docker.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Repository path (`library/busybox`). */
  repository: string;
}

/** One request through {@link Session.request}. */
export interface SessionRequest extends Omit<HttpRequest, 'url' | 'authorization'> {
  /** The endpoint host that serves the request (a mirror or the registry's API host). */
  host: string;
  /** Path and query under the endpoint's origin (`/v2/…`), or an absolute URL (upload locations). */
  path: string;
  /** Registry name whose credentials apply (the reference's registry, or the mirror's host). */
  credentialKey: string;
  /** Token scopes, e.g. `repository:library/busybox:pull`. */
  scopes: readonly string[];
}

/** Shared state of one client: transport, authenticator, mirrors. */
export class Session {
  constructor(
    readonly transport: Transport,
    readonly auth: Authenticator,
    readonly logger: Logger,
    readonly mirrors: ReadonlyMap<string, readonly string[]>,
  ) {}

  /** Repositories each blob was seen in, per registry (`registry|digest` → repositories). */
  readonly #blobRepos = new Map<string, Set<string>>();

  /** Records that `digest` is in `repository` of `registry` (a cross-repository mount source). */
  noteBlob(registry: string, digest: string, repository: string): void {
    const key = `${registry}|${digest}`;
    let set = this.#blobRepos.get(key);
    if (set === undefined) {
      set = new Set();
      this.#blobRepos.set(key, set);
    }
    set.add(repository);
  }

  /** Repositories of `registry` known to hold `digest`. */
  blobRepos(registry: string, digest: string): string[] {
    return [...(this.#blobRepos.get(`${registry}|${digest}`) ?? [])];
  }

  /** The API host of a registry name. */
  apiHost(registry: string): string {
    return registry === 'docker.io' ? DOCKER_HUB_API : registry;
  }

  /**
   * Endpoints for an operation on `registry`, in order: for reads its mirrors first, then the
   * registry itself; for writes the registry only (docker pushes to the origin, never a mirror).
   */
  endpoints(registry: string, mode: 'read' | 'write'): { host: string; credentialKey: string }[] {
    const origin = { host: this.apiHost(registry), credentialKey: registry };
    if (mode === 'write') return [origin];
    const mirrors = (this.mirrors.get(registry) ?? []).map((m) => ({ host: m, credentialKey: m }));
    return [...mirrors, origin];
  }

  /**
   * Runs `fn` against each read endpoint in turn until one succeeds: a mirror that fails in any
   * way (down, missing the image, bad content) falls back to the next, and the registry's own
   * error is the one reported.
   */
  async withReadEndpoints<T>(
    registry: string,
    signal: AbortSignal | undefined,
    fn: (endpoint: { host: string; credentialKey: string }) => Promise<T>,
  ): Promise<T> {
    const list = this.endpoints(registry, 'read');
    for (let i = 0; ; i++) {
      const endpoint = list[i]!;
      try {
        return await fn(endpoint);
      } catch (err) {
        if (signal?.aborted || i === list.length - 1) throw err;
        this.logger.warn('mirror failed, trying the next endpoint', {
          mirror: endpoint.host,
          registry,
          error: (err as Error).message,
        });
      }
    }
  }

  /** The origin (`https://host` or `http://host`) of an endpoint host. */
  async origin(host: string, context: RegistryErrorContext, signal?: AbortSignal): Promise<string> {
    return (await this.transport.ping(host, context, signal)).origin;
  }

  /**
   * Sends an authenticated request. On a 401 it records the new challenge, drops the cached
   * token and tries once more (when the body can be replayed). Resolves with any status.
   */
  async request(req: SessionRequest): Promise<HttpResponse> {
    const early = await this.#unpinged(req);
    const ping = early?.ping ?? (await this.transport.ping(req.host, req.context, req.signal));
    const url = /^https?:\/\//.test(req.path) ? new URL(req.path) : new URL(req.path, ping.origin);
    // Upload locations may point at another host: it gets no credentials of ours.
    const sameHost = url.host === req.host;
    let scopes = req.scopes;
    for (let attempt = 0; ; attempt++) {
      const authorization =
        !sameHost || (attempt === 0 && early !== undefined)
          ? undefined
          : await this.auth.authorization({
              registry: req.host,
              credentialKey: req.credentialKey,
              ping,
              scopes,
              context: req.context,
              ...(req.signal ? { signal: req.signal } : {}),
            });
      const res =
        attempt === 0 && early !== undefined
          ? early.res
          : await this.transport.send({
              ...req,
              url,
              ...(authorization === undefined ? {} : { authorization }),
            });
      // Every body is replayable: bytes, or a function opening a fresh stream.
      if (res.status !== 401 || attempt > 0) return res;
      const challenge = challengeOf(res.headers);
      const hadAuth = authorization !== undefined;
      // A 401 may name a wider scope than asked for (insufficient_scope): the retry asks for both.
      scopes = [...new Set([...req.scopes, ...this.auth.observe(req.host, challenge)])];
      this.auth.invalidate(req.host, req.scopes);
      this.auth.invalidate(req.host, scopes);
      // Retry only when it can change something: a token to refresh, or a first challenge.
      const creds = await this.auth.credentials(req.credentialKey, req.signal);
      if (!hadAuth && creds === undefined && !challenge?.toLowerCase().startsWith('bearer')) return res;
      await discard(res);
      this.logger.debug('401, retrying with fresh authorization', { host: req.host });
    }
  }

  /**
   * The first GET or HEAD to a loopback registry goes out over plain HTTP with no `GET /v2/`
   * before it and no credentials (as the ping would: plain HTTP is tried first on loopback), and
   * its answer stands in for the ping's: the scheme, and a 401's challenge, which
   * {@link Session.request} then answers as it answers any 401 (the ping would have cost the
   * same round trip). 429 and 5xx are retried as usual. A request that fails to connect, or a
   * 400 (a TLS-only server's answer to plain HTTP), is sent again after a real ping, which finds
   * the scheme and reports errors as before. Requests with a body always wait for the ping: a
   * 401 would waste the upload.
   */
  async #unpinged(req: SessionRequest): Promise<{ ping: PingResult; res: HttpResponse } | undefined> {
    if (
      (req.method !== 'GET' && req.method !== 'HEAD') ||
      req.body !== undefined ||
      /^https?:\/\//.test(req.path) ||
      !this.transport.unpinged(req.host)
    ) {
      return undefined;
    }
    const origin = `http://${req.host}`;
    let res: HttpResponse;
    try {
      res = await this.transport.send({ ...req, url: new URL(req.path, origin), retryNetwork: false });
    } catch (err) {
      req.signal?.throwIfAborted();
      this.logger.debug('loopback registry does not answer plain http without a ping', {
        host: req.host,
        error: (err as Error).message,
      });
      return undefined;
    }
    if (res.status === 400) {
      await discard(res);
      return undefined;
    }
    const challenge = res.status === 401 ? header(res.headers, 'www-authenticate') : undefined;
    const ping: PingResult = {
      origin,
      status: res.status === 401 ? 401 : 200,
      ...(challenge === undefined ? {} : { challenge }),
    };
    this.transport.learn(req.host, ping);
    return { ping, res };
  }
}

/** An INVALID_RESPONSE error for a protocol violation by the registry. */
export function protocolError(operation: string, what: string, context: RegistryErrorContext): RegistryError {
  return new RegistryError(
    'INVALID_RESPONSE',
    `${operation} ${context.registry ?? ''}${context.repository ? `/${context.repository}` : ''}: ${what}`,
    context,
  );
}
