/**
 * Registry authentication: `WWW-Authenticate` challenges (RFC 7235), Basic, and the bearer token
 * flow of the distribution spec ("Token Authentication Specification"): the registry names a
 * `realm`, `service` and `scope`; a token is fetched from the realm (with Basic credentials, or an
 * OAuth2 refresh token when the user has an identity token), cached per scope until it expires,
 * and fetched again when the registry answers 401.
 */
import type { Logger } from '@berth/oci';
import { RegistryError, type RegistryErrorContext } from './errors.js';
import { errorText, header, type PingResult, readLimited, type Transport } from './transport.js';

/** Credentials for one registry. */
export interface Credentials {
  /** User name (Basic, or sent to the token realm). */
  username?: string;
  /** Password or personal access token. */
  password?: string;
  /** An OAuth2 refresh token (docker config `identitytoken`). */
  identityToken?: string;
  /** A bearer token to send as is (docker config `registrytoken`). */
  registryToken?: string;
}

/** Looks up credentials for a registry host (`docker.io`, `127.0.0.1:5000`). */
export type CredentialProvider = (
  registry: string,
  options: { signal?: AbortSignal },
) => Promise<Credentials | undefined>;

/** One parsed challenge: `Bearer realm="…",service="…"` → `{ scheme: 'bearer', params }`. */
export interface Challenge {
  /** Lowercased auth scheme. */
  scheme: string;
  /** Parameters with lowercased names. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header into its challenges. Quoted strings may hold commas and
 * backslash escapes. Input is hostile: parsing is bounded and stops at anything malformed,
 * keeping what was parsed so far.
 */
export function parseChallenges(value: string): Challenge[] {
  const out: Challenge[] = [];
  const s = value.slice(0, 16 * 1024);
  let i = 0;
  const skip = (chars: string) => {
    while (i < s.length && chars.includes(s[i]!)) i++;
  };
  const tokenAt = (): string => {
    const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(s.slice(i, i + 1024));
    if (m === null) return '';
    i += m[0].length;
    return m[0];
  };
  for (;;) {
    skip(' \t,');
    const scheme = tokenAt();
    if (scheme === '') break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: Object.create(null) };
    out.push(challenge);
    for (;;) {
      const save = i;
      skip(' \t,');
      const name = tokenAt();
      skip(' \t');
      if (name === '' || s[i] !== '=') {
        i = save; // the next challenge's scheme (or the end)
        break;
      }
      i++;
      skip(' \t');
      let v = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          v += s[i];
          i++;
        }
        if (i >= s.length) return out; // unterminated quote
        i++;
      } else {
        // Unquoted: RFC 7235 says token, but registries send URLs unquoted too; take up to , or space.
        const m = /^[^,\s"]{0,4096}/.exec(s.slice(i, i + 4096));
        v = m?.[0] ?? '';
        i += v.length;
      }
      challenge.params[name.toLowerCase()] = v;
    }
  }
  return out;
}

/** `repository:<name>:<actions>` scope strings for a repository. */
export function repositoryScope(
  repository: string,
  actions: readonly ('pull' | 'push' | 'delete')[],
): string {
  return `repository:${repository}:${actions.join(',')}`;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/** Options of {@link Authenticator}. */
export interface AuthenticatorOptions {
  transport: Transport;
  credentials?: CredentialProvider;
  logger: Logger;
  /** OAuth2 `client_id` for refresh-token grants. */
  clientId?: string;
}

/**
 * Computes the `Authorization` header for requests, caching bearer tokens per registry and
 * scope. One per client.
 */
export class Authenticator {
  readonly #transport: Transport;
  readonly #credentials: CredentialProvider | undefined;
  readonly #logger: Logger;
  readonly #clientId: string;
  readonly #tokens = new Map<string, Promise<CachedToken>>();
  readonly #creds = new Map<string, Promise<Credentials | undefined>>();
  /** The latest challenge per registry (updated from 401 responses). */
  readonly #challenges = new Map<string, Challenge[]>();

  constructor(options: AuthenticatorOptions) {
    this.#transport = options.transport;
    this.#credentials = options.credentials;
    this.#logger = options.logger;
    this.#clientId = options.clientId ?? 'berth';
  }

  /** Credentials for `registry`, looked up once per client. */
  credentials(registry: string, signal?: AbortSignal): Promise<Credentials | undefined> {
    let p = this.#creds.get(registry);
    if (p === undefined) {
      if (this.#credentials === undefined) return Promise.resolve(undefined);
      p = this.#credentials(registry, signal ? { signal } : {});
      this.#creds.set(registry, p);
      p.catch(() => this.#creds.delete(registry));
    }
    return p;
  }

  /** Replaces the credentials of `registry` for this client (used by login checks). */
  setCredentials(registry: string, credentials: Credentials | undefined): void {
    this.#creds.set(registry, Promise.resolve(credentials));
    this.#tokens.clear();
  }

  /**
   * Records a challenge from a 401 (or the ping) for `registry`, and returns the scopes its
   * bearer challenge names. Those are the scopes the refused request needs (a registry may name
   * a wider one than was asked for: insufficient_scope), so they are not kept for other requests:
   * the caller adds them to the retry of that request.
   */
  observe(registry: string, challengeHeader: string | undefined): string[] {
    if (challengeHeader === undefined) return [];
    const parsed = parseChallenges(challengeHeader);
    if (parsed.length === 0) return [];
    const named: string[] = [];
    for (const c of parsed) {
      if (c.params.scope === undefined) continue;
      if (c.scheme === 'bearer') named.push(...c.params.scope.split(' ').filter((x) => x !== ''));
      delete c.params.scope;
    }
    this.#challenges.set(registry, parsed);
    return named;
  }

  /**
   * The `Authorization` value for a request to `registry` needing `scopes`, or undefined for
   * anonymous access. Throws UNAUTHORIZED when the token realm refuses the credentials.
   */
  async authorization(options: {
    /** The endpoint host: challenges and tokens are cached per host. */
    registry: string;
    /** The name credentials are looked up under (the reference's registry or a mirror host). */
    credentialKey: string;
    ping: PingResult;
    scopes: readonly string[];
    context: RegistryErrorContext;
    signal?: AbortSignal;
  }): Promise<string | undefined> {
    const { registry, ping } = options;
    if (!this.#challenges.has(registry)) this.observe(registry, ping.challenge);
    const challenges = this.#challenges.get(registry);
    if (challenges === undefined || challenges.length === 0) return undefined;
    const creds = await this.credentials(options.credentialKey, options.signal);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer !== undefined) {
      if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
      const token = await this.#token(
        registry,
        bearer,
        options.scopes,
        creds,
        options.context,
        options.signal,
      );
      return `Bearer ${token}`;
    }
    if (challenges.some((c) => c.scheme === 'basic') && creds?.username !== undefined) {
      return `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
    }
    return undefined;
  }

  /** Drops cached tokens of `registry` for `scopes` (after a 401), so the next call fetches anew. */
  invalidate(registry: string, scopes: readonly string[]): void {
    this.#tokens.delete(this.#key(registry, scopes));
  }

  #key(registry: string, scopes: readonly string[]): string {
    return `${registry}|${[...scopes].sort().join(' ')}`;
  }

  async #token(
    registry: string,
    challenge: Challenge,
    scopes: readonly string[],
    creds: Credentials | undefined,
    context: RegistryErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const all = [...new Set(scopes)];
    const key = this.#key(registry, all);
    const cached = this.#tokens.get(key);
    if (cached !== undefined) {
      const t = await cached.catch(() => undefined);
      if (t !== undefined && t.expiresAt > Date.now()) return t.value;
      if (this.#tokens.get(key) === cached) this.#tokens.delete(key);
    }
    const p = this.#fetchToken(registry, challenge, all, creds, context, signal);
    this.#tokens.set(key, p);
    p.catch(() => {
      if (this.#tokens.get(key) === p) this.#tokens.delete(key);
    });
    return (await p).value;
  }

  async #fetchToken(
    registry: string,
    challenge: Challenge,
    scopes: readonly string[],
    creds: Credentials | undefined,
    context: RegistryErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<CachedToken> {
    const realmText = challenge.params.realm;
    let realm: URL;
    try {
      realm = new URL(realmText ?? '');
    } catch (cause) {
      throw new RegistryError(
        'INVALID_RESPONSE',
        `auth ${registry}: bearer challenge has an invalid realm ${JSON.stringify(String(realmText).slice(0, 200))}`,
        context,
        { cause },
      );
    }
    if (
      realm.protocol !== 'https:' &&
      !(realm.protocol === 'http:' && this.#transport.allowsHttp(realm.host))
    ) {
      throw new RegistryError(
        'INSECURE_REGISTRY',
        `auth ${registry}: refusing token realm ${realm.protocol}//${realm.host} (plain http only for loopback and insecure registries)`,
        context,
      );
    }
    const service = challenge.params.service;
    const signalOpt = signal ? { signal } : {};
    let res: Awaited<ReturnType<Transport['send']>>;
    if (creds?.identityToken) {
      // OAuth2 refresh-token grant, as docker does for identity tokens.
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        client_id: this.#clientId,
        ...(service === undefined ? {} : { service }),
        ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
      });
      res = await this.#transport.send({
        method: 'POST',
        url: realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        operation: 'auth',
        context,
        ...signalOpt,
      });
    } else {
      const url = new URL(realm);
      if (service !== undefined) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (creds?.username !== undefined) url.searchParams.set('account', creds.username);
      const basic =
        creds?.username !== undefined
          ? `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`
          : undefined;
      res = await this.#transport.send({
        method: 'GET',
        url,
        ...(basic === undefined ? {} : { authorization: basic }),
        operation: 'auth',
        context,
        ...signalOpt,
      });
    }
    if (res.status !== 200) {
      const text = await errorText(res);
      const code = res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'DENIED' : 'REGISTRY_ERROR';
      throw new RegistryError(
        code,
        `auth ${registry}: token request to ${realm.host} failed (HTTP ${res.status}${text ? `: ${text.slice(0, 200).trim()}` : ''})`,
        { ...context, status: res.status },
      );
    }
    const bytes = await readLimited(
      res.body,
      1024 * 1024,
      () => new RegistryError('INVALID_RESPONSE', `auth ${registry}: token response over 1 MiB`, context),
    );
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch (cause) {
      throw new RegistryError('INVALID_RESPONSE', `auth ${registry}: token response is not JSON`, context, {
        cause,
      });
    }
    const value = typeof body?.token === 'string' ? body.token : body?.access_token;
    if (typeof value !== 'string' || value.length === 0 || /[\r\n]/.test(value)) {
      throw new RegistryError('INVALID_RESPONSE', `auth ${registry}: token response has no token`, context);
    }
    // Distribution's token spec: expires_in defaults to 60 s. Refresh 10 s early.
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    this.#logger.debug('fetched registry token', { registry, scopes, expiresIn: seconds });
    return { value, expiresAt: Date.now() + Math.max(1, seconds - 10) * 1000 };
  }
}

/** The challenge header of a response, if any. */
export function challengeOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  return header(headers, 'www-authenticate');
}
