/**
 * Registry errors: one stable code per failure a caller can act on, mapped from the registry's
 * error body (distribution spec, "Error Codes": `{"errors":[{"code","message","detail"}]}`) and
 * from the HTTP status when the body says nothing useful.
 */
import { BerthError, isBerthError } from '@berth/oci';

/** Error codes raised by `@berth/registry`. */
export const RegistryErrorCode = {
  /** Credentials missing or refused (HTTP 401, `UNAUTHORIZED`). */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** Authenticated but not allowed (HTTP 403, `DENIED`). */
  DENIED: 'DENIED',
  /** The repository is not known to the registry (`NAME_UNKNOWN`). */
  NAME_UNKNOWN: 'NAME_UNKNOWN',
  /** The manifest (tag or digest) is not known (`MANIFEST_UNKNOWN`). */
  MANIFEST_UNKNOWN: 'MANIFEST_UNKNOWN',
  /** A blob is not known (`BLOB_UNKNOWN`, `MANIFEST_BLOB_UNKNOWN`). */
  BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  /** Rate limited (HTTP 429, `TOOMANYREQUESTS`) and still so after the retries. */
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  /** Content hashed to another digest than expected (`DIGEST_INVALID` on push). */
  DIGEST_MISMATCH: 'DIGEST_MISMATCH',
  /** Content had another length than expected (`SIZE_INVALID` on push). */
  SIZE_MISMATCH: 'SIZE_MISMATCH',
  /** A manifest media type the registry or berth does not accept (HTTP 415, schema 1). */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** A manifest or index over 4 MiB (HTTP 413 on push, or refused while reading). */
  MANIFEST_TOO_LARGE: 'MANIFEST_TOO_LARGE',
  /** The manifest body is not a valid manifest or index (`MANIFEST_INVALID`, invalid JSON). */
  INVALID_MANIFEST: 'INVALID_MANIFEST',
  /** The registry sent something that breaks the protocol (bad header, bad JSON, bad Location). */
  INVALID_RESPONSE: 'INVALID_RESPONSE',
  /** A redirect chain looped or was too long. */
  TOO_MANY_REDIRECTS: 'TOO_MANY_REDIRECTS',
  /** TLS failed: certificate not trusted, wrong host name, handshake refused. */
  TLS_ERROR: 'TLS_ERROR',
  /** Connection refused, reset, timed out or name not resolved, after the retries. */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** Plain HTTP was needed for a registry that is neither loopback nor configured as insecure. */
  INSECURE_REGISTRY: 'INSECURE_REGISTRY',
  /** The registry refused the operation (`UNSUPPORTED`, HTTP 405, deletes disabled). */
  UNSUPPORTED: 'UNSUPPORTED',
  /** Any other error status from the registry (kept with its status and body code). */
  REGISTRY_ERROR: 'REGISTRY_ERROR',
  /** `~/.docker/config.json` is unreadable or malformed. */
  DOCKER_CONFIG_INVALID: 'DOCKER_CONFIG_INVALID',
  /** A `docker-credential-*` helper failed or is missing. */
  CREDENTIAL_HELPER_FAILED: 'CREDENTIAL_HELPER_FAILED',
  /** An OCI layout directory is missing, malformed, or has no such tag. */
  LAYOUT_INVALID: 'LAYOUT_INVALID',
  /** A caller passed an invalid option (a bad URL, a non-positive concurrency). */
  INVALID_OPTION: 'INVALID_OPTION',
} as const;
/** Union of {@link RegistryErrorCode} values. */
export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

/** Where a registry error happened: the parts a message and a handler need. */
export interface RegistryErrorContext {
  /** Registry host, e.g. `docker.io`, `127.0.0.1:5000`. */
  registry?: string;
  /** Repository path, e.g. `library/busybox`. */
  repository?: string;
  /** Tag or digest, when the operation had one. */
  reference?: string;
  /** HTTP status of the response that failed, when there was one. */
  status?: number;
  /** The registry's own error code (`errors[0].code`), when it sent one. */
  registryCode?: string;
}

/**
 * A {@link BerthError} carrying the registry, repository, reference and HTTP status it is about.
 * `input.ref` is the reference as text (`registry/repository:tag`) when one is known.
 */
export class RegistryError<C extends string = RegistryErrorCode> extends BerthError<C> {
  /** Registry host. */
  readonly registry?: string;
  /** Repository path. */
  readonly repository?: string;
  /** Tag or digest. */
  readonly reference?: string;
  /** HTTP status of the failing response. */
  readonly status?: number;
  /** The registry's error code from the response body. */
  readonly registryCode?: string;

  /**
   * @param code - stable code from {@link RegistryErrorCode}
   * @param message - subject first, lowercase, no trailing period
   * @param context - registry, repository, reference, status
   * @param options - the wrapped cause
   */
  constructor(
    code: C,
    message: string,
    context: RegistryErrorContext = {},
    options: { cause?: unknown } = {},
  ) {
    const ref = refText(context);
    super(code, message, {
      ...(ref === undefined ? {} : { input: { ref } }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = 'RegistryError';
    if (context.registry !== undefined) this.registry = context.registry;
    if (context.repository !== undefined) this.repository = context.repository;
    if (context.reference !== undefined) this.reference = context.reference;
    if (context.status !== undefined) this.status = context.status;
    if (context.registryCode !== undefined) this.registryCode = context.registryCode;
  }
}

/** `registry/repository:tag` or `registry/repository@digest`, as far as known. */
export function refText(c: RegistryErrorContext): string | undefined {
  if (c.registry === undefined) return undefined;
  let s = c.registry;
  if (c.repository !== undefined) s += `/${c.repository}`;
  if (c.reference !== undefined) s += c.reference.includes(':') ? `@${c.reference}` : `:${c.reference}`;
  return s;
}

/** The distribution spec's error codes and the berth code each maps to. */
const bodyCodes: Record<string, RegistryErrorCode> = {
  UNAUTHORIZED: 'UNAUTHORIZED',
  DENIED: 'DENIED',
  NAME_UNKNOWN: 'NAME_UNKNOWN',
  MANIFEST_UNKNOWN: 'MANIFEST_UNKNOWN',
  BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  MANIFEST_BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  BLOB_UPLOAD_UNKNOWN: 'BLOB_UNKNOWN',
  TOOMANYREQUESTS: 'TOO_MANY_REQUESTS',
  DIGEST_INVALID: 'DIGEST_MISMATCH',
  SIZE_INVALID: 'SIZE_MISMATCH',
  MANIFEST_INVALID: 'INVALID_MANIFEST',
  MANIFEST_UNVERIFIED: 'INVALID_MANIFEST',
  UNSUPPORTED: 'UNSUPPORTED',
};

/** What kind of object a request was about; chooses the code of a bare 404. */
export type RequestSubject = 'manifest' | 'blob' | 'upload' | 'tags' | 'catalog' | 'ping' | 'token';

/** Parsed `{"errors":[...]}` body, tolerant of anything else (hostile input). */
export function parseErrorBody(text: string): { code?: string; message?: string } {
  if (text.length === 0 || text.length > 64 * 1024) return {};
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null) return {};
    const errors = (body as { errors?: unknown }).errors;
    if (!Array.isArray(errors) || errors.length === 0) return {};
    const first: unknown = errors[0];
    if (typeof first !== 'object' || first === null) return {};
    const { code, message } = first as { code?: unknown; message?: unknown };
    return {
      ...(typeof code === 'string' && code.length <= 100 ? { code } : {}),
      ...(typeof message === 'string' ? { message: message.slice(0, 300) } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * Maps a failed response to a {@link RegistryError}: the body's `errors[0].code` wins, then the
 * HTTP status (401 UNAUTHORIZED, 403 DENIED, 404 by subject, 413 MANIFEST_TOO_LARGE, 415
 * UNSUPPORTED_MEDIA_TYPE, 429 TOO_MANY_REQUESTS, 405 UNSUPPORTED), else REGISTRY_ERROR.
 * @param options - the operation (`pull`, `push`, …), subject, status, body text and context
 */
export function errorFromResponse(options: {
  operation: string;
  subject: RequestSubject;
  status: number;
  body: string;
  context: RegistryErrorContext;
}): RegistryError {
  const { status, subject } = options;
  const parsed = parseErrorBody(options.body);
  let code: RegistryErrorCode | undefined = parsed.code === undefined ? undefined : bodyCodes[parsed.code];
  if (code === undefined) {
    if (status === 401) code = 'UNAUTHORIZED';
    else if (status === 403) code = 'DENIED';
    else if (status === 404)
      code =
        subject === 'manifest' ? 'MANIFEST_UNKNOWN' : subject === 'blob' ? 'BLOB_UNKNOWN' : 'NAME_UNKNOWN';
    else if (status === 405) code = 'UNSUPPORTED';
    else if (status === 413 && subject === 'manifest') code = 'MANIFEST_TOO_LARGE';
    else if (status === 415) code = 'UNSUPPORTED_MEDIA_TYPE';
    else if (status === 429) code = 'TOO_MANY_REQUESTS';
    else code = 'REGISTRY_ERROR';
  }
  const context: RegistryErrorContext = {
    ...options.context,
    status,
    ...(parsed.code === undefined ? {} : { registryCode: parsed.code }),
  };
  const subjectText = refText(context) ?? 'registry';
  const why = code.toLowerCase().replace(/_/g, ' ');
  const detail = [`HTTP ${status}`, parsed.code, parsed.message].filter((s) => s !== undefined).join(': ');
  return new RegistryError(code, `${options.operation} ${subjectText}: ${why} (${detail})`, context);
}

/** Node/undici error codes that mean TLS failed (certificate, host name, handshake). */
const tlsCodes = new Set([
  'CA_FILE_UNREADABLE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
]);

/** The errno-style code of an error or of its causes. */
export function errnoCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether a low-level error is a TLS failure. */
export function isTlsFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (tlsCodes.has(code) || code.startsWith('ERR_SSL_'))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Wraps a low-level connection failure as TLS_ERROR or NETWORK_ERROR, keeping it as `cause`. */
export function networkError(
  operation: string,
  url: string,
  err: unknown,
  context: RegistryErrorContext,
): RegistryError {
  const code: RegistryErrorCode = isTlsFailure(err) ? 'TLS_ERROR' : 'NETWORK_ERROR';
  const errno = errnoCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  return new RegistryError(
    code,
    `${operation} ${refText(context) ?? url}: ${code === 'TLS_ERROR' ? 'tls' : 'network'} error at ${url}: ${msg}${errno && !msg.includes(errno) ? ` (${errno})` : ''}`,
    context,
    { cause: err },
  );
}

/**
 * Tells whether `err` is a registry error (optionally with `code`), typed so that `registry`,
 * `repository`, `reference` and `status` are reachable. Works across copies of the package.
 */
export function isRegistryError<C extends RegistryErrorCode>(
  err: unknown,
  code?: C,
): err is RegistryError<C> {
  return isBerthError(err, code);
}
