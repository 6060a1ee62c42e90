/**
 * The registry client: one object holding the connection pool, the auth state (challenges and
 * tokens per scope) and the mirror configuration, with every operation of the package.
 */
import type { Readable } from 'node:stream';
import {
  type ContentSink,
  type Descriptor,
  type Digest,
  parseReference,
  type Reference,
  silentLogger,
} from '@berth/oci';
import { Authenticator, type CredentialProvider, type Credentials } from './auth.js';
import { type FetchBlobOptions, fetchBlob, openBlob } from './blobs.js';
import { errorFromResponse, RegistryError } from './errors.js';
import { type PullOptions, type PullResult, pullImage } from './pull.js';
import { type PushOptions, type PushResult, type PushSource, pushImage } from './push.js';
import {
  catalog,
  deleteManifest,
  type FetchedManifest,
  fetchManifest,
  listTags,
  type ReferenceInput,
  resolveReference,
  toReference,
} from './resolve.js';
import { Session } from './session.js';
import { discard, errorText, Transport, type TransportOptions } from './transport.js';

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions extends TransportOptions {
  /**
   * Where credentials come from; anonymous when absent. Use `dockerConfigCredentials()` for the
   * user's `~/.docker/config.json` and its credential helpers.
   */
  credentials?: CredentialProvider;
  /**
   * Pull-through mirrors per registry, tried in order before the registry itself (reads only;
   * pushes always go to the registry), as docker's `registry-mirrors` does for `docker.io`:
   * `{ 'docker.io': ['mirror.gcr.io'] }`. Entries may be hosts or URLs; an `http://` URL marks
   * the mirror as insecure.
   */
  mirrors?: Readonly<Record<string, readonly string[]>>;
}

/** Options shared by every call: cancellation. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** Options of {@link RegistryClient.push}. */
export interface ClientPushOptions extends PushOptions {
  /** The top manifest or index to push; default `source.resolve(name)` for an OCI layout. */
  descriptor?: Descriptor;
  /** The layout entry to push (its `ref.name`); default the only entry. */
  name?: string;
}

/** A source to push from that can also name its top descriptor (an `OciLayout`). */
export type ClientPushSource = PushSource & {
  resolve?(name?: string, opts?: { signal?: AbortSignal }): Promise<Descriptor>;
};

/**
 * A client of OCI distribution registries. References are strings (`busybox`,
 * `localhost:5000/app:1`, `ghcr.io/o/r@sha256:…`) normalised as docker does, or parsed
 * {@link Reference}s. Every method takes `signal`.
 */
export interface RegistryClient {
  /** Resolves a reference to its manifest or index descriptor (HEAD, then GET). */
  resolve(ref: ReferenceInput, options?: CallOptions): Promise<Descriptor>;
  /** Fetches and validates a manifest or index (by the reference, or by `descriptor`). */
  getManifest(
    ref: ReferenceInput,
    options?: CallOptions & { descriptor?: Descriptor },
  ): Promise<FetchedManifest>;
  /** Lists a repository's tags across pages. */
  listTags(
    repository: ReferenceInput,
    options?: CallOptions & { pageSize?: number; limit?: number },
  ): Promise<string[]>;
  /** Lists a registry's repositories (`/v2/_catalog`) across pages. */
  catalog(registry: string, options?: CallOptions & { pageSize?: number; limit?: number }): Promise<string[]>;
  /** Deletes a manifest (a tag is resolved to its digest first); resolves with the digest. */
  deleteManifest(ref: ReferenceInput, options?: CallOptions): Promise<Digest>;
  /** Downloads one blob into a sink, verified and resumable. */
  fetchBlob(
    repository: ReferenceInput,
    desc: Descriptor,
    sink: ContentSink,
    options?: FetchBlobOptions,
  ): Promise<void>;
  /** Opens one blob as a stream that errors on a size or digest mismatch. */
  openBlob(repository: ReferenceInput, desc: Descriptor, options?: CallOptions): Promise<Readable>;
  /** Pulls an image (one platform of an index) into a sink. */
  pull(ref: ReferenceInput, sink: ContentSink, options?: PullOptions): Promise<PullResult>;
  /** Pushes an image from a source (an OCI layout) to a reference. */
  push(ref: ReferenceInput, source: ClientPushSource, options?: ClientPushOptions): Promise<PushResult>;
  /**
   * Checks credentials against a registry (`GET /v2/` with them, through the token flow when
   * the registry uses one). Resolves when they are accepted; throws UNAUTHORIZED otherwise. On
   * success this client uses them for the registry from then on.
   */
  checkLogin(options: { registry: string } & Credentials & CallOptions): Promise<void>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

function mirrorHosts(list: readonly string[], insecure: string[]): string[] {
  return list.map((m) => {
    if (!/^[a-z]+:\/\//i.test(m)) return m.replace(/\/+$/, '');
    let url: URL;
    try {
      url = new URL(m);
    } catch (cause) {
      throw new RegistryError('INVALID_OPTION', `mirror ${JSON.stringify(m)}: invalid url`, {}, { cause });
    }
    if (url.protocol === 'http:') insecure.push(url.host);
    else if (url.protocol !== 'https:')
      throw new RegistryError('INVALID_OPTION', `mirror ${JSON.stringify(m)}: scheme must be http or https`);
    return url.host;
  });
}

/**
 * Creates a registry client.
 *
 * @example
 * ```ts
 * const client = createRegistryClient({ credentials: dockerConfigCredentials() });
 * await client.pull('alpine', toLayout('./alpine'), { platform: 'linux/amd64' });
 * ```
 */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const insecure = [...(options.insecure ?? [])];
  const mirrors = new Map<string, readonly string[]>();
  for (const [registry, list] of Object.entries(options.mirrors ?? {}))
    mirrors.set(registry, mirrorHosts(list, insecure));
  const logger = options.logger ?? silentLogger;
  const transport = new Transport({ ...options, insecure, logger });
  const auth = new Authenticator({
    transport,
    logger,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const session = new Session(transport, auth, logger, mirrors);
  const repoOf = (input: ReferenceInput): Reference =>
    typeof input === 'string' ? parseReference(input) : input;

  return {
    resolve: (ref, o = {}) => resolveReference(session, toReference(ref), o),
    getManifest: (ref, o = {}) =>
      fetchManifest(session, toReference(ref), { ...o, ...(o.descriptor ? { expected: o.descriptor } : {}) }),
    listTags: (repository, o = {}) => listTags(session, repoOf(repository), o),
    catalog: (registry, o = {}) => catalog(session, registry, o),
    deleteManifest: (ref, o = {}) => deleteManifest(session, toReference(ref), o),
    fetchBlob: (repository, desc, sink, o = {}) => fetchBlob(session, repoOf(repository), desc, sink, o),
    openBlob: (repository, desc, o = {}) => openBlob(session, repoOf(repository), desc, o),
    pull: (ref, sink, o = {}) => pullImage(session, toReference(ref), sink, o),
    async push(ref, source, o = {}) {
      let desc = o.descriptor;
      if (desc === undefined) {
        if (typeof source.resolve !== 'function') {
          throw new RegistryError(
            'INVALID_OPTION',
            'push: no descriptor given and the source cannot resolve one',
          );
        }
        desc = await source.resolve(o.name, o.signal ? { signal: o.signal } : {});
      }
      return pushImage(session, source, desc, toReference(ref), o);
    },
    async checkLogin(o) {
      const { registry, signal } = o;
      const creds: Credentials = {
        ...(o.username !== undefined ? { username: o.username } : {}),
        ...(o.password !== undefined ? { password: o.password } : {}),
        ...(o.identityToken !== undefined ? { identityToken: o.identityToken } : {}),
        ...(o.registryToken !== undefined ? { registryToken: o.registryToken } : {}),
      };
      const [endpoint] = session.endpoints(registry, 'write');
      const context = { registry };
      auth.setCredentials(registry, creds);
      const res = await session.request({
        ...endpoint!,
        method: 'GET',
        path: '/v2/',
        scopes: [],
        operation: 'login',
        context,
        ...(signal ? { signal } : {}),
      });
      if (res.status === 200) {
        await discard(res);
        return;
      }
      throw errorFromResponse({
        operation: 'login',
        subject: 'ping',
        status: res.status,
        body: await errorText(res),
        context,
      });
    },
    close: () => transport.close(),
  };
}
