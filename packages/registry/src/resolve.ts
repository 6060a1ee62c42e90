/**
 * Reading a registry's manifests and names (distribution spec, "Pulling manifests", "Listing
 * tags", "Deleting manifests"; catalog from distribution's API): resolve a reference to a
 * descriptor, fetch and validate a manifest or index, list tags and repositories across pages,
 * delete a manifest.
 */
import {
  baseMediaType,
  type Descriptor,
  type Digest,
  digestOf,
  type ImageDocument,
  isBerthError,
  isDigest,
  isIndexType,
  isManifestType,
  isSchema1Type,
  MAX_DOCUMENT_BYTES,
  MediaType,
  parseImageDocument,
  parseReference,
  type Reference,
  withDefaultTag,
} from '@berth/oci';
import { repositoryScope } from './auth.js';
import { errorFromResponse, RegistryError, type RegistryErrorContext, refText } from './errors.js';
import { protocolError, type Session } from './session.js';
import { discard, errorText, type HttpResponse, header, readLimited } from './transport.js';

/** The `Accept` header for manifests: OCI and Docker v2, manifests and indexes. */
export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
].join(', ');

/** A reference given as text (`busybox`, `localhost:5000/app:1`) or already parsed. */
export type ReferenceInput = string | Reference;

/** Parses and normalises a reference; a reference with neither tag nor digest gets `latest`. */
export function toReference(input: ReferenceInput): Reference {
  const ref = typeof input === 'string' ? parseReference(input) : input;
  return ref.tag === undefined && ref.digest === undefined ? withDefaultTag(ref) : ref;
}

/** The tag or digest used in the manifest URL: the digest when the reference has one. */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** Error context of a reference. */
export function contextOf(ref: Reference, reference?: string): RegistryErrorContext {
  const r = reference ?? ref.digest ?? ref.tag;
  return { registry: ref.registry, repository: ref.repository, ...(r === undefined ? {} : { reference: r }) };
}

/** A fetched and validated manifest or index. */
export interface FetchedManifest {
  /** Its descriptor (media type, digest of the bytes, size). */
  descriptor: Descriptor;
  /** The exact bytes, as the registry sent them (their digest is the descriptor's). */
  bytes: Buffer;
  /** The parsed document. */
  document: Extract<ImageDocument, { kind: 'manifest' | 'index' }>;
}

function mediaTypeOf(res: HttpResponse): string | undefined {
  const ct = header(res.headers, 'content-type');
  return ct === undefined ? undefined : baseMediaType(ct);
}

function tooLarge(op: string, context: RegistryErrorContext, size: number | string): RegistryError {
  return new RegistryError(
    'MANIFEST_TOO_LARGE',
    `${op} ${refText(context)}: manifest of ${size} bytes is larger than the ${MAX_DOCUMENT_BYTES}-byte limit`,
    context,
  );
}

function contentLength(res: HttpResponse): number | undefined {
  const v = header(res.headers, 'content-length');
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}

/**
 * Resolves a reference to the descriptor of its manifest or index: `HEAD` first (cheap, and
 * not counted by Docker Hub's rate limit), `GET` when the registry's answer lacks a digest,
 * size or type. Throws MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED, DENIED,
 * UNSUPPORTED_MEDIA_TYPE (schema 1, unknown types), MANIFEST_TOO_LARGE, DIGEST_MISMATCH.
 */
export async function resolveReference(
  session: Session,
  ref: Reference,
  options: { signal?: AbortSignal; operation?: string } = {},
): Promise<Descriptor> {
  const op = options.operation ?? 'resolve';
  const context = contextOf(ref);
  return session.withReadEndpoints(ref.registry, options.signal, async (endpoint) => {
    const res = await session.request({
      ...endpoint,
      method: 'HEAD',
      path: `/v2/${ref.repository}/manifests/${manifestReference(ref)}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [repositoryScope(ref.repository, ['pull'])],
      operation: op,
      context,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await discard(res);
    if (res.status === 200) {
      const mediaType = mediaTypeOf(res);
      const size = contentLength(res);
      const headerDigest = header(res.headers, 'docker-content-digest');
      if (headerDigest !== undefined && !isDigest(headerDigest)) {
        throw protocolError(
          op,
          `invalid Docker-Content-Digest header ${JSON.stringify(headerDigest.slice(0, 150))}`,
          context,
        );
      }
      if (ref.digest !== undefined && headerDigest !== undefined && headerDigest !== ref.digest) {
        throw new RegistryError(
          'DIGEST_MISMATCH',
          `${op} ${refText(context)}: registry reports digest ${headerDigest}`,
          { ...context, status: 200 },
        );
      }
      const digest = ref.digest ?? headerDigest;
      if (mediaType !== undefined && isSchema1Type(mediaType)) {
        throw new RegistryError(
          'UNSUPPORTED_MEDIA_TYPE',
          `${op} ${refText(context)}: docker schema 1 manifests are not supported`,
          context,
        );
      }
      if (size !== undefined && size > MAX_DOCUMENT_BYTES) throw tooLarge(op, context, size);
      if (
        digest !== undefined &&
        size !== undefined &&
        (isManifestType(mediaType) || isIndexType(mediaType))
      ) {
        return { mediaType, digest: digest as Digest, size };
      }
    } else if (res.status !== 405 && res.status !== 400) {
      // HEAD has no body; map by status (404 on a manifest is MANIFEST_UNKNOWN).
      throw errorFromResponse({ operation: op, subject: 'manifest', status: res.status, body: '', context });
    }
    const fetched = await fetchManifestFrom(session, endpoint, ref, manifestReference(ref), {
      ...options,
      operation: op,
      ...(ref.digest === undefined ? {} : { expected: { digest: ref.digest } }),
    });
    return fetched.descriptor;
  });
}

async function fetchManifestFrom(
  session: Session,
  endpoint: { host: string; credentialKey: string },
  repo: Reference,
  reference: string,
  options: { signal?: AbortSignal; operation?: string; expected?: { digest: Digest; size?: number } },
): Promise<FetchedManifest> {
  const op = options.operation ?? 'get manifest';
  const context = contextOf(repo, reference);
  const res = await session.request({
    ...endpoint,
    method: 'GET',
    path: `/v2/${repo.repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [repositoryScope(repo.repository, ['pull'])],
    operation: op,
    context,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (res.status !== 200) {
    throw errorFromResponse({
      operation: op,
      subject: 'manifest',
      status: res.status,
      body: await errorText(res),
      context,
    });
  }
  const declared = contentLength(res);
  if (declared !== undefined && declared > MAX_DOCUMENT_BYTES) {
    res.body.destroy();
    throw tooLarge(op, context, declared);
  }
  const bytes = await readLimited(res.body, MAX_DOCUMENT_BYTES, () =>
    tooLarge(op, context, `more than ${MAX_DOCUMENT_BYTES}`),
  );
  const expected = options.expected;
  const algorithm = expected?.digest.startsWith('sha512:') ? 'sha512' : 'sha256';
  const actual = digestOf(bytes, { algorithm });
  if (expected !== undefined) {
    if (expected.size !== undefined && bytes.byteLength !== expected.size) {
      throw new RegistryError(
        'SIZE_MISMATCH',
        `${op} ${refText(context)}: size mismatch (expected ${expected.size} bytes, got ${bytes.byteLength})`,
        { ...context, status: 200 },
      );
    }
    if (actual !== expected.digest) {
      throw new RegistryError(
        'DIGEST_MISMATCH',
        `${op} ${refText(context)}: digest mismatch (expected ${expected.digest}, got ${actual})`,
        { ...context, status: 200 },
      );
    }
  }
  // The registry's Docker-Content-Digest must describe the bytes it sent.
  const headerDigest = header(res.headers, 'docker-content-digest');
  if (headerDigest !== undefined) {
    if (!isDigest(headerDigest)) {
      throw protocolError(
        op,
        `invalid Docker-Content-Digest header ${JSON.stringify(headerDigest.slice(0, 150))}`,
        context,
      );
    }
    const headerAlgo = headerDigest.startsWith('sha512:') ? 'sha512' : 'sha256';
    const check = headerAlgo === algorithm ? actual : digestOf(bytes, { algorithm: headerAlgo });
    if (check !== headerDigest) {
      throw new RegistryError(
        'DIGEST_MISMATCH',
        `${op} ${refText(context)}: body does not match Docker-Content-Digest (header ${headerDigest}, body ${check})`,
        { ...context, status: 200 },
      );
    }
  }
  let document: ImageDocument;
  try {
    document = parseImageDocument(bytes, header(res.headers, 'content-type'));
  } catch (err) {
    if (isBerthError(err)) {
      const code =
        err.code === 'MANIFEST_TOO_LARGE' || err.code === 'UNSUPPORTED_MEDIA_TYPE'
          ? err.code
          : 'INVALID_MANIFEST';
      throw new RegistryError(
        code,
        `${op} ${refText(context)}: ${err.message}`,
        { ...context, status: 200 },
        { cause: err },
      );
    }
    throw err;
  }
  if (document.kind === 'config') {
    throw new RegistryError(
      'INVALID_MANIFEST',
      `${op} ${refText(context)}: registry sent an image config, not a manifest`,
      context,
    );
  }
  return {
    descriptor: { mediaType: document.mediaType, digest: expected?.digest ?? actual, size: bytes.byteLength },
    bytes,
    document,
  };
}

/**
 * Fetches a manifest or index by tag or digest and validates it with `@berth/oci`. With a
 * digest (in the reference or `expected`), the bytes must hash to it; the registry's
 * `Docker-Content-Digest` must always match the body. Throws MANIFEST_UNKNOWN,
 * MANIFEST_TOO_LARGE, DIGEST_MISMATCH, SIZE_MISMATCH, INVALID_MANIFEST, UNSUPPORTED_MEDIA_TYPE.
 */
export async function fetchManifest(
  session: Session,
  ref: Reference,
  options: { signal?: AbortSignal; operation?: string; expected?: Descriptor } = {},
): Promise<FetchedManifest> {
  const reference = options.expected?.digest ?? manifestReference(ref);
  const expected = options.expected ?? (ref.digest ? { digest: ref.digest } : undefined);
  return session.withReadEndpoints(ref.registry, options.signal, (endpoint) =>
    fetchManifestFrom(session, endpoint, ref, reference, {
      ...options,
      ...(expected === undefined ? {} : { expected }),
    }),
  );
}

/** Parses RFC 8288 `Link: <url>; rel="next"` and returns the next URL on the same origin. */
export function nextLink(value: string | undefined, base: URL): URL | undefined {
  if (value === undefined) return undefined;
  for (const part of value.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*((?:;[^;]*)*)$/.exec(part);
    if (m === null) continue;
    if (!/;\s*rel="?next"?/i.test(m[2] ?? '')) continue;
    let url: URL;
    try {
      url = new URL(m[1]!, base);
    } catch {
      return undefined;
    }
    // Hostile registries must not steer us (and our token) elsewhere.
    return url.origin === base.origin ? url : undefined;
  }
  return undefined;
}

async function paged(
  session: Session,
  options: {
    registry: string;
    path: string;
    field: 'tags' | 'repositories';
    scopes: string[];
    context: RegistryErrorContext;
    pageSize?: number;
    limit?: number;
    operation: string;
    subject: 'tags' | 'catalog';
    signal?: AbortSignal;
  },
): Promise<string[]> {
  const [endpoint] = session.endpoints(options.registry, 'write');
  const origin = await session.origin(endpoint!.host, options.context, options.signal);
  let url: URL | undefined = new URL(options.path, origin);
  if (options.pageSize !== undefined) url.searchParams.set('n', String(options.pageSize));
  const out: string[] = [];
  const seen = new Set<string>();
  for (let page = 0; url !== undefined; page++) {
    if (page >= 10_000 || seen.has(url.href))
      throw protocolError(options.operation, 'pagination does not end', options.context);
    seen.add(url.href);
    const res = await session.request({
      ...endpoint!,
      method: 'GET',
      path: url.href,
      scopes: options.scopes,
      operation: options.operation,
      context: options.context,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (res.status !== 200) {
      throw errorFromResponse({
        operation: options.operation,
        subject: options.subject,
        status: res.status,
        body: await errorText(res),
        context: options.context,
      });
    }
    const bytes = await readLimited(res.body, 16 * 1024 * 1024, () =>
      protocolError(options.operation, 'page larger than 16 MiB', options.context),
    );
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch (cause) {
      throw new RegistryError(
        'INVALID_RESPONSE',
        `${options.operation} ${refText(options.context)}: invalid json`,
        options.context,
        { cause },
      );
    }
    const list = (body as Record<string, unknown> | null)?.[options.field];
    if (
      list !== null &&
      list !== undefined &&
      (!Array.isArray(list) || list.some((t) => typeof t !== 'string'))
    ) {
      throw protocolError(options.operation, `"${options.field}" is not a list of strings`, options.context);
    }
    for (const t of (list ?? []) as string[]) {
      out.push(t);
      if (options.limit !== undefined && out.length >= options.limit) return out;
    }
    url = nextLink(header(res.headers, 'link'), url);
  }
  return out;
}

/**
 * Lists a repository's tags, following `Link: rel="next"` pages (same origin only).
 * Throws NAME_UNKNOWN, UNAUTHORIZED, DENIED, INVALID_RESPONSE.
 */
export function listTags(
  session: Session,
  repo: Reference,
  options: { pageSize?: number; limit?: number; signal?: AbortSignal } = {},
): Promise<string[]> {
  return paged(session, {
    registry: repo.registry,
    path: `/v2/${repo.repository}/tags/list`,
    field: 'tags',
    scopes: [repositoryScope(repo.repository, ['pull'])],
    context: { registry: repo.registry, repository: repo.repository },
    operation: 'list tags',
    subject: 'tags',
    ...options,
  });
}

/** Lists the registry's repositories (`/v2/_catalog`), across pages. */
export function catalog(
  session: Session,
  registry: string,
  options: { pageSize?: number; limit?: number; signal?: AbortSignal } = {},
): Promise<string[]> {
  return paged(session, {
    registry,
    path: '/v2/_catalog',
    field: 'repositories',
    scopes: ['registry:catalog:*'],
    context: { registry },
    operation: 'catalog',
    subject: 'catalog',
    ...options,
  });
}

/**
 * Deletes a manifest by digest (a tag is resolved to its digest first, as the spec requires
 * deletes by digest). Resolves with the deleted digest. Throws MANIFEST_UNKNOWN, UNSUPPORTED
 * (deletes disabled), DENIED.
 */
export async function deleteManifest(
  session: Session,
  ref: Reference,
  options: { signal?: AbortSignal } = {},
): Promise<Digest> {
  const digest =
    ref.digest ?? (await resolveReference(session, ref, { ...options, operation: 'delete' })).digest;
  const context = contextOf(ref, digest);
  const [endpoint] = session.endpoints(ref.registry, 'write');
  const res = await session.request({
    ...endpoint!,
    method: 'DELETE',
    path: `/v2/${ref.repository}/manifests/${digest}`,
    scopes: [repositoryScope(ref.repository, ['delete'])],
    operation: 'delete',
    context,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (res.status !== 202 && res.status !== 200 && res.status !== 204) {
    throw errorFromResponse({
      operation: 'delete',
      subject: 'manifest',
      status: res.status,
      body: await errorText(res),
      context,
    });
  }
  await discard(res);
  return digest;
}
