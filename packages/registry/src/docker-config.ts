/**
 * Docker's client configuration, `~/.docker/config.json`: credentials in `auths` (base64
 * `user:password`, `identitytoken`, `registrytoken`), and `credHelpers` / `credsStore` naming
 * `docker-credential-<name>` executables that speak docker-credential-helpers' protocol
 * (`get`/`store`/`erase` with the server URL or a JSON record on stdin). `login` and `logout`
 * write the same file format, mode 0600, by write-temp, fsync, rename; unknown keys are kept.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@berth/oci';
import { silentLogger } from '@berth/oci';
import type { CredentialProvider, Credentials } from './auth.js';
import { RegistryError } from './errors.js';

/** Docker Hub's key in `auths` and the server URL docker hands credential helpers. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

/** Options naming the config directory (the one holding `config.json`). */
export interface DockerConfigOptions {
  /** The directory; default {@link defaultDockerConfigDir}(). */
  dir?: string;
  /** Directories searched for `docker-credential-*` executables instead of `PATH`. */
  helperDirs?: readonly string[];
  /** The environment of `docker-credential-*` executables; default this process's. */
  helperEnv?: Readonly<Record<string, string | undefined>>;
  /** Structured logger; silent by default. */
  logger?: Logger;
  signal?: AbortSignal;
}

/** One `auths` entry as docker writes it. */
export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  [key: string]: unknown;
}

/** The parts of `config.json` berth reads; every other key is kept as is on write. */
export interface DockerConfig {
  auths?: Record<string, DockerAuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

/**
 * Docker's choice of directory: `$DOCKER_CONFIG`, else `~/.docker`. Takes the environment as
 * an argument so that a library caller decides where it comes from.
 */
export function defaultDockerConfigDir(env: Record<string, string | undefined> = process.env): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

/** The server name docker uses for a registry: Docker Hub's legacy URL, else the host. */
export function serverAddress(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' || registry === 'registry-1.docker.io'
    ? DOCKER_HUB_SERVER
    : registry;
}

/** Docker's `ConvertToHostname`: strips scheme and path from an `auths` key. */
export function keyHost(key: string): string {
  let h = key.replace(/^https?:\/\//, '');
  const slash = h.indexOf('/');
  if (slash !== -1) h = h.slice(0, slash);
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : h;
}

function invalidConfig(path: string, why: string, cause?: unknown): RegistryError {
  return new RegistryError(
    'DOCKER_CONFIG_INVALID',
    `docker config ${path}: ${why}`,
    {},
    cause ? { cause } : {},
  );
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads `config.json`; a missing file is an empty config. Throws DOCKER_CONFIG_INVALID for
 * invalid JSON or fields of the wrong type.
 */
export async function readDockerConfig(options: DockerConfigOptions = {}): Promise<DockerConfig> {
  const path = join(options.dir ?? defaultDockerConfigDir(), 'config.json');
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    if (options.signal?.aborted) throw options.signal.reason;
    throw invalidConfig(path, `cannot read: ${(err as Error).message}`, err);
  }
  if (text.length > 4 * 1024 * 1024) throw invalidConfig(path, 'larger than 4 MiB');
  let raw: unknown;
  try {
    raw = JSON.parse(text.trim() === '' ? '{}' : text);
  } catch (err) {
    throw invalidConfig(path, `invalid json: ${(err as Error).message}`, err);
  }
  if (!isRecord(raw)) throw invalidConfig(path, 'not a json object');
  const cfg = Object.assign(Object.create(null), raw) as DockerConfig;
  if (cfg.auths !== undefined) {
    if (!isRecord(cfg.auths)) throw invalidConfig(path, '"auths" is not an object');
    for (const [k, v] of Object.entries(cfg.auths)) {
      if (!isRecord(v)) throw invalidConfig(path, `auths[${JSON.stringify(k)}] is not an object`);
      for (const f of ['auth', 'username', 'password', 'identitytoken', 'registrytoken']) {
        if (v[f] !== undefined && typeof v[f] !== 'string') {
          throw invalidConfig(path, `auths[${JSON.stringify(k)}].${f} is not a string`);
        }
      }
    }
  }
  if (cfg.credHelpers !== undefined) {
    if (!isRecord(cfg.credHelpers)) throw invalidConfig(path, '"credHelpers" is not an object');
    for (const [k, v] of Object.entries(cfg.credHelpers)) {
      if (typeof v !== 'string')
        throw invalidConfig(path, `credHelpers[${JSON.stringify(k)}] is not a string`);
    }
  }
  if (cfg.credsStore !== undefined && typeof cfg.credsStore !== 'string') {
    throw invalidConfig(path, '"credsStore" is not a string');
  }
  return cfg;
}

/** Decodes one `auths` entry into credentials. */
function entryCredentials(path: string, key: string, e: DockerAuthEntry): Credentials | undefined {
  const out: Credentials = {};
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0)
      throw invalidConfig(path, `auths[${JSON.stringify(key)}].auth is not base64 of user:password`);
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  } else if (e.username) {
    out.username = e.username;
    if (e.password !== undefined) out.password = e.password;
  }
  if (e.identitytoken) out.identityToken = e.identitytoken;
  if (e.registrytoken) out.registryToken = e.registrytoken;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The helper that holds credentials for `registry`, if the config names one. */
function helperFor(cfg: DockerConfig, registry: string): string | undefined {
  const host = keyHost(registry);
  for (const [k, v] of Object.entries(cfg.credHelpers ?? {})) if (keyHost(k) === host && v) return v;
  return cfg.credsStore || undefined;
}

/** Runs `docker-credential-<name> <action>` with `input` on stdin. */
async function runHelper(
  name: string,
  action: 'get' | 'store' | 'erase',
  input: string,
  options: DockerConfigOptions,
): Promise<{ code: number; stdout: string; stderr: string } | 'missing'> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new RegistryError(
      'CREDENTIAL_HELPER_FAILED',
      `credential helper ${JSON.stringify(name.slice(0, 100))}: invalid name`,
    );
  }
  const exe = `docker-credential-${name}`;
  const candidates = options.helperDirs ? options.helperDirs.map((d) => join(d, exe)) : [exe];
  for (const file of candidates) {
    const result = await new Promise<{ code: number; stdout: string; stderr: string } | 'missing'>(
      (resolve, reject) => {
        const child = spawn(file, [action], {
          stdio: ['pipe', 'pipe', 'pipe'],
          ...(options.helperEnv ? { env: options.helperEnv } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => {
          if (stdout.length < 1024 * 1024) stdout += d.toString('utf8');
        });
        child.stderr.on('data', (d: Buffer) => {
          if (stderr.length < 64 * 1024) stderr += d.toString('utf8');
        });
        child.stdin.on('error', () => {});
        child.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') resolve('missing');
          else reject(err);
        });
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
        child.stdin.end(input);
      },
    ).catch((err: unknown) => {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new RegistryError(
        'CREDENTIAL_HELPER_FAILED',
        `credential helper ${exe} ${action}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    });
    if (result !== 'missing') return result;
  }
  return 'missing';
}

/**
 * Looks up credentials for `registry` as docker does: its `credHelpers` entry, else
 * `credsStore`, through the `docker-credential-*` executable when present; else (or when the
 * helper has none) the `auths` entry. Returns undefined for anonymous access.
 * Throws DOCKER_CONFIG_INVALID or CREDENTIAL_HELPER_FAILED.
 */
export async function getCredentials(
  registry: string,
  options: DockerConfigOptions = {},
): Promise<Credentials | undefined> {
  const logger = options.logger ?? silentLogger;
  const dir = options.dir ?? defaultDockerConfigDir();
  const cfg = await readDockerConfig({ ...options, dir });
  const helper = helperFor(cfg, registry);
  if (helper !== undefined) {
    const r = await runHelper(helper, 'get', serverAddress(registry), options);
    if (r === 'missing') {
      logger.warn('credential helper not found, using config.json auths', { helper, registry });
    } else if (r.code === 0) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.stdout);
      } catch (cause) {
        throw new RegistryError(
          'CREDENTIAL_HELPER_FAILED',
          `credential helper docker-credential-${helper} get: output is not json`,
          {},
          { cause },
        );
      }
      const { Username, Secret } = (isRecord(parsed) ? parsed : {}) as {
        Username?: unknown;
        Secret?: unknown;
      };
      if (typeof Secret !== 'string' || (Username !== undefined && typeof Username !== 'string')) {
        throw new RegistryError(
          'CREDENTIAL_HELPER_FAILED',
          `credential helper docker-credential-${helper} get: output lacks Username/Secret`,
        );
      }
      // docker-credential-helpers: the user name "<token>" marks an identity token.
      if (Username === '<token>') return { identityToken: Secret };
      return { ...(Username ? { username: Username } : {}), password: Secret };
    } else if (!/credentials not found/i.test(r.stdout + r.stderr)) {
      throw new RegistryError(
        'CREDENTIAL_HELPER_FAILED',
        `credential helper docker-credential-${helper} get ${registry}: exit ${r.code}: ${(r.stdout + r.stderr).trim().slice(0, 300)}`,
      );
    }
  }
  const path = join(dir, 'config.json');
  const host = keyHost(registry);
  const auths = cfg.auths ?? {};
  const exact = auths[serverAddress(registry)];
  if (exact !== undefined) return entryCredentials(path, serverAddress(registry), exact);
  for (const [k, e] of Object.entries(auths)) if (keyHost(k) === host) return entryCredentials(path, k, e);
  return undefined;
}

/** A {@link CredentialProvider} backed by the user's docker config. */
export function dockerConfigCredentials(
  options: Omit<DockerConfigOptions, 'signal'> = {},
): CredentialProvider {
  return (registry, { signal }) => getCredentials(registry, { ...options, ...(signal ? { signal } : {}) });
}

async function writeConfig(dir: string, cfg: DockerConfig): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'config.json');
  const tmp = join(dir, `.config.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(cfg, null, '\t')}\n`);
    await fh.chmod(0o600);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
    await chmod(path, 0o600);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Options of {@link login}. */
export interface LoginOptions extends DockerConfigOptions {
  /** Registry host (`docker.io`, `127.0.0.1:5000`). */
  registry: string;
  username: string;
  password: string;
}

/**
 * Stores credentials for a registry as `docker login` does: through the configured credential
 * helper when there is one, else base64 `user:password` in `auths` (Docker Hub under
 * {@link DOCKER_HUB_SERVER}). The file is written with mode 0600. Verify the credentials first
 * with the client's `checkLogin`.
 */
export async function login(options: LoginOptions): Promise<{ storedIn: 'config' | 'helper' }> {
  const dir = options.dir ?? defaultDockerConfigDir();
  const cfg = await readDockerConfig({ ...options, dir });
  const key = serverAddress(options.registry);
  const helper = helperFor(cfg, options.registry);
  if (helper !== undefined) {
    const r = await runHelper(
      helper,
      'store',
      JSON.stringify({ ServerURL: key, Username: options.username, Secret: options.password }),
      options,
    );
    if (r !== 'missing') {
      if (r.code !== 0) {
        throw new RegistryError(
          'CREDENTIAL_HELPER_FAILED',
          `credential helper docker-credential-${helper} store ${options.registry}: exit ${r.code}: ${(r.stdout + r.stderr).trim().slice(0, 300)}`,
        );
      }
      return { storedIn: 'helper' };
    }
  }
  const auths: Record<string, DockerAuthEntry> = { ...(cfg.auths ?? {}) };
  for (const k of Object.keys(auths))
    if (k !== key && keyHost(k) === keyHost(options.registry)) delete auths[k];
  auths[key] = { auth: Buffer.from(`${options.username}:${options.password}`).toString('base64') };
  await writeConfig(dir, { ...cfg, auths });
  return { storedIn: 'config' };
}

/** Options of {@link logout}. */
export interface LogoutOptions extends DockerConfigOptions {
  /** Registry host. */
  registry: string;
}

/**
 * Removes stored credentials for a registry (from the helper and from `auths`), as
 * `docker logout` does. Resolves with whether anything was removed.
 */
export async function logout(options: LogoutOptions): Promise<{ removed: boolean }> {
  const dir = options.dir ?? defaultDockerConfigDir();
  const cfg = await readDockerConfig({ ...options, dir });
  const key = serverAddress(options.registry);
  let removed = false;
  const helper = helperFor(cfg, options.registry);
  if (helper !== undefined) {
    const r = await runHelper(helper, 'erase', key, options);
    if (r !== 'missing' && r.code === 0) removed = true;
  }
  const auths: Record<string, DockerAuthEntry> = { ...(cfg.auths ?? {}) };
  for (const k of Object.keys(auths)) {
    if (keyHost(k) === keyHost(options.registry)) {
      delete auths[k];
      removed = true;
    }
  }
  if (cfg.auths !== undefined && Object.keys(auths).length !== Object.keys(cfg.auths).length) {
    await writeConfig(dir, { ...cfg, auths });
  }
  return { removed };
}
