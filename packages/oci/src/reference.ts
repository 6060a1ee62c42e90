/**
 * Image references parsed, normalised and formatted as Docker does (distribution/reference's
 * `ParseNormalizedNamed`, `FamiliarString`, `TagNameOnly`). The grammar:
 *
 * ```text
 * reference      := name [ ":" tag ] [ "@" digest ]
 * name           := [domain "/"] path
 * domain         := host [":" port]      host := domain-name | "[" IPv6 "]"
 * domain-name    := component ("." component)*   component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 * path           := path-component ("/" path-component)*
 * path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator := "." | "_" | "__" | "-"+
 * tag            := [\w][\w.-]{0,127}
 * ```
 *
 * The first `/`-separated component is a registry host when it contains `.` or `:`, is
 * `localhost`, or has uppercase letters; otherwise the reference is on Docker Hub (`docker.io`),
 * and a single-component Hub path gets the `library/` prefix. `index.docker.io` means `docker.io`.
 */
import { type Digest, parseDigest } from './digest.js';
import { BerthError } from './errors.js';

/** Error codes raised by reference parsing. */
export const ReferenceErrorCode = {
  /** A string is not a valid image reference (Docker's "invalid reference format" family). */
  INVALID_REFERENCE: 'INVALID_REFERENCE',
} as const;
/** Union of {@link ReferenceErrorCode} values. */
export type ReferenceErrorCode = (typeof ReferenceErrorCode)[keyof typeof ReferenceErrorCode];

/** Docker Hub's canonical registry name in references. */
export const DEFAULT_REGISTRY = 'docker.io';
/** The tag a name-only reference gets (see {@link withDefaultTag}). */
export const DEFAULT_TAG = 'latest';
/** Maximum length of a repository path (distribution/reference `RepositoryNameTotalLengthMax`). */
export const MAX_REPOSITORY_LENGTH = 255;

const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
/** Longer than any valid reference (host, 255-char path, 128-char tag, sha512 digest). */
const MAX_INPUT_LENGTH = 1024;

/** A normalised image reference, e.g. `docker.io/library/busybox:latest`. */
export interface Reference {
  /** Registry host with optional port: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path inside the registry: `library/busybox`, `user/app`. */
  repository: string;
  /** Tag, when the reference has one. */
  tag?: string;
  /** Digest, when the reference has one (a reference may carry both tag and digest). */
  digest?: Digest;
}

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6Address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainAndPort = `(?:${domainName}|${ipv6Address})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const pathPattern = `${pathComponent}(?:/${pathComponent})*`;

const referenceRe = new RegExp(
  `^((?:${domainAndPort}/)?${pathPattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`,
);
const nameRe = new RegExp(`^(?:(${domainAndPort})/)?(${pathPattern})$`);
const tagRe = new RegExp(`^${tagPattern}$`);
const identifierRe = /^[a-f0-9]{64}$/;

function invalid(s: string, why: string, cause?: unknown): BerthError<'INVALID_REFERENCE'> {
  const shown = JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}…` : s);
  return new BerthError(ReferenceErrorCode.INVALID_REFERENCE, `reference ${shown}: ${why}`, {
    input: { ref: s },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Splits off the registry as Docker's `splitDockerDomain` does. */
function splitRegistry(s: string): [registry: string, rest: string] {
  const slash = s.indexOf('/');
  if (slash === -1) return [DEFAULT_REGISTRY, OFFICIAL_PREFIX + s];
  const first = s.slice(0, slash);
  let registry: string;
  let rest: string;
  if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    registry = first === LEGACY_DEFAULT_REGISTRY ? DEFAULT_REGISTRY : first;
    rest = s.slice(slash + 1);
  } else {
    registry = DEFAULT_REGISTRY;
    rest = s;
  }
  if (registry === DEFAULT_REGISTRY && !rest.includes('/')) rest = OFFICIAL_PREFIX + rest;
  return [registry, rest];
}

/**
 * Parses and normalises an image reference the way `docker pull` does: `busybox` becomes
 * `{ registry: 'docker.io', repository: 'library/busybox' }` (no tag is added; see
 * {@link withDefaultTag}). Throws `INVALID_REFERENCE` with `input: { ref }` and Docker's wording
 * ("invalid reference format", "repository name must be lowercase", ...).
 *
 * @example
 * ```ts
 * parseReference('localhost:5000/app:1'); // { registry: 'localhost:5000', repository: 'app', tag: '1' }
 * ```
 */
export function parseReference(s: string): Reference {
  if (typeof s !== 'string') throw invalid(String(s), 'invalid reference format');
  if (s.length === 0)
    throw invalid(s, 'invalid reference format: repository name must have at least one component');
  if (s.length > MAX_INPUT_LENGTH) throw invalid(s, 'invalid reference format');
  if (identifierRe.test(s)) {
    throw invalid(s, `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [registry, rest] = splitRegistry(s);
  const colon = rest.indexOf(':');
  const remote = colon === -1 ? rest : rest.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw invalid(s, `invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const full = `${registry}/${rest}`;
  const m = referenceRe.exec(full);
  if (m === null) {
    const lower = full.toLowerCase();
    if (lower !== full && referenceRe.test(lower)) {
      throw invalid(s, 'invalid reference format: repository name must be lowercase');
    }
    throw invalid(s, 'invalid reference format');
  }
  const name = nameRe.exec(m[1] ?? '');
  // Docker would keep e.g. "a_b.com/x" as a host-less name; berth needs a registry, so refuse.
  if (name === null || name[1] !== registry)
    throw invalid(s, `invalid reference format: invalid registry host`);
  const repository = name[2] ?? '';
  if (repository.length > MAX_REPOSITORY_LENGTH) {
    throw invalid(s, `repository name must not be more than ${MAX_REPOSITORY_LENGTH} characters`);
  }
  const ref: Reference = { registry, repository };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) {
    try {
      ref.digest = parseDigest(m[3]);
    } catch (err) {
      throw invalid(s, (err as Error).message, err);
    }
  }
  return ref;
}

/** Tells whether `s` parses as an image reference. */
export function isReference(s: string): boolean {
  try {
    parseReference(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Validates a tag (`[\w][\w.-]{0,127}`) for commands such as `docker tag`. Throws
 * `INVALID_REFERENCE` ("invalid tag format").
 */
export function parseTag(tag: string): string {
  if (typeof tag !== 'string' || !tagRe.test(tag)) throw invalid(String(tag), 'invalid tag format');
  return tag;
}

/** The full normalised repository name without tag or digest: `docker.io/library/busybox`. */
export function referenceName(r: Reference): string {
  return `${r.registry}/${r.repository}`;
}

function suffix(r: Reference): string {
  return (r.tag === undefined ? '' : `:${r.tag}`) + (r.digest === undefined ? '' : `@${r.digest}`);
}

/** The full normalised form: `docker.io/library/busybox:latest`, `ghcr.io/a/b@sha256:…`. */
export function formatReference(r: Reference): string {
  return referenceName(r) + suffix(r);
}

/**
 * The familiar (short) name as Docker prints it: `docker.io/` is dropped, and so is `library/`
 * for a single-component official image path. `docker.io/library/busybox` → `busybox`.
 */
export function familiarName(r: Reference): string {
  if (r.registry !== DEFAULT_REGISTRY) return referenceName(r);
  if (r.repository.startsWith(OFFICIAL_PREFIX)) {
    const rest = r.repository.slice(OFFICIAL_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return r.repository;
}

/** The familiar form with tag and digest: `busybox:latest`, `user/app:1`, `localhost:5000/x@sha256:…`. */
export function familiarReference(r: Reference): string {
  return familiarName(r) + suffix(r);
}

/** Adds the `latest` tag to a reference that has neither tag nor digest (Docker's `TagNameOnly`). */
export function withDefaultTag(r: Reference): Reference {
  if (r.tag !== undefined || r.digest !== undefined) return r;
  return { ...r, tag: DEFAULT_TAG };
}
