/**
 * Loads `native/build/berth-sys.node` once (node-pty's `loadNativeModule`: fail loudly, naming
 * where it looked). N-API is ABI-stable, so the one build of `pnpm build` serves every Node 20+.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';
import { BerthError } from '@berth/oci';
import { NATIVE_BUILD_DIR } from '../native-build.js';
import { SysErrorCode } from './errors.js';

/** The addon's functions (native/sys.c); each returns 0 or an errno. */
export interface Addon {
  flock(fd: number, op: number): number;
  flockAsync(fd: number, op: number): Promise<number>;
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): number;
  umount2(target: string, flags: number): number;
  /** umount2(2) on the libuv thread pool. */
  umount2Async(target: string, flags: number): Promise<number>;
  /** posix_spawn in a new session: [pid, sync fd (the child's fd 3), stderr read end], or an errno. */
  spawnDetached(
    file: string,
    args: string[],
    stdin: number,
    stdout: number,
  ): [number, number, number] | number;
  /** Reaps a child of spawnDetached (blocking). */
  waitpid(pid: number): number;
  /** shutdown(fd, SHUT_RDWR). */
  shutdown(fd: number): number;
  /** `mode` holds the file type (S_IFCHR, S_IFBLK, S_IFIFO) and the permission bits. */
  mknod(path: string, mode: number, major: number, minor: number): number;
  /** open(2) and syncfs(2) on the libuv thread pool. */
  syncfsAsync(path: string): Promise<number>;
  /** FS_IOC_GETFLAGS, `set` OR-ed in, FS_IOC_SETFLAGS; the path opened O_NOFOLLOW. */
  setInodeFlags(path: string, set: number): number;
  /**
   * One request on a unix socket on the libuv thread pool (connect, write `request`, read up to
   * the first newline): the reply line without its newline, null at EOF without one, or an errno.
   */
  controlAsync(path: string, request: string): Promise<string | number | null>;
  /**
   * Removes the directory tree on the libuv thread pool in one job (never following a symlink,
   * stopping with EXDEV at another file system): 0 when it is gone (or was missing), else the
   * errno of the step that failed. `last`: a name in `path` unlinked after everything else.
   */
  removeTreeAsync(path: string, last?: string | null): Promise<number>;
  /**
   * rmdir(2) of each path, in order, in one thread-pool job: the first errno other than ENOENT
   * (it goes on past a failure), 0 when all are gone.
   */
  rmdirsAsync(paths: string[]): Promise<number>;
  /** renameat2(2) RENAME_EXCHANGE: the two names swap their files atomically. */
  renameExchange(from: string, to: string): number;
  /**
   * Loads a cgroup v2 device program (struct bpf_insn[]) and attaches it to the cgroup directory,
   * replacing the programs attached before: null, or `devices: <why>` (the verifier's last line,
   * or the failing step and errno).
   */
  attachDeviceFilter(dir: string, program: Uint8Array): string | null;
  /** Fills `buf` from getrandom(2): 0 or an errno. */
  randomFill(buf: Uint8Array): number;
  /** OpenSSL's SHA-256 from the node binary; absent when this node exports none. */
  sha256?(data: Uint8Array): Buffer;
}

/** The addon's file name, beside berth-shim and berth-init in `native/build/`. */
export const SYS_ADDON_NAME = 'berth-sys.node';

/** Where this package's build writes the addon (`make -C native`). Works from src/ and dist/. */
export const BUNDLED_SYS_ADDON_PATH = join(NATIVE_BUILD_DIR, SYS_ADDON_NAME);

let addon: Addon | undefined;

/**
 * The package's own copy, seen from a bundle that inlined this module: the bundle's package
 * depends on `@berth/runtime` for its native build (the berth CLI does), so it resolves. The
 * `node_modules` walk comes first: it finds what `require.resolve` would, without loading Node's
 * package-exports resolver (~3 ms of CPU on every command that takes a lock or mounts);
 * `require.resolve` covers the rest (NODE_PATH, global folders).
 */
function packageAddon(name = SYS_ADDON_NAME): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    const pkg = join(dir, 'node_modules', '@berth', 'runtime');
    if (existsSync(join(pkg, 'package.json'))) return join(pkg, 'native', 'build', name);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  try {
    const pkg = createRequire(import.meta.url).resolve('@berth/runtime/package.json');
    return join(dirname(pkg), 'native', 'build', name);
  } catch {
    return undefined;
  }
}

/** The gzip decoder addon's file name (`native/inflate.c`, ISA-L's igzip), beside berth-sys.node. */
export const INFLATE_ADDON_NAME = 'berth-inflate.node';

/**
 * Where `berth-inflate.node` is, found as {@link loadAddon} finds berth-sys.node (beside this
 * module's build, else in the `@berth/runtime` package it resolves), or undefined when it was not
 * built. Not loaded here: `@berth/overlay` loads it in each thread that decodes a gzip layer
 * (`createSnapshotter({ gunzipAddon })`), and decodes with node:zlib when it does not load.
 */
export function gunzipAddonPath(): string | undefined {
  const bundled = join(NATIVE_BUILD_DIR, INFLATE_ADDON_NAME);
  if (existsSync(bundled)) return bundled;
  const fromPackage = packageAddon(INFLATE_ADDON_NAME);
  return fromPackage !== undefined && existsSync(fromPackage) ? fromPackage : undefined;
}

/**
 * The addon: beside this module, else in the `@berth/runtime` package this module's location
 * resolves (a bundle that inlined it), looked up only when the first is missing.
 * @throws BerthError SYS_ADDON_NOT_FOUND naming every path tried (run `pnpm build`)
 */
export function loadAddon(): Addon {
  if (addon) return addon;
  const tried: string[] = [];
  const load = (path: string | undefined): Addon | undefined => {
    if (path === undefined || tried.includes(path)) return undefined;
    tried.push(path);
    if (!existsSync(path)) return undefined;
    try {
      return createRequire(import.meta.url)(path) as Addon;
    } catch (cause) {
      throw new BerthError(
        SysErrorCode.SYS_ADDON_NOT_FOUND,
        `berth-sys addon: cannot load ${path}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  };
  addon = load(BUNDLED_SYS_ADDON_PATH);
  if (addon) return addon;
  const fromPackage = packageAddon();
  addon = load(fromPackage);
  if (addon) return addon;
  if (fromPackage === undefined)
    tried.push(`@berth/runtime (no such package seen from ${fileURLToPath(import.meta.url)})`);
  throw new BerthError(
    SysErrorCode.SYS_ADDON_NOT_FOUND,
    `berth-sys addon: not built (\`make -C native\` in @berth/runtime); tried ${tried.join(', ')}`,
  );
}

let systemErrors: Map<number, [string, string]> | undefined;

/**
 * libuv's errno table (negative errno -> [name, message]), built once: node's
 * `getSystemErrorMap()` builds a new Map of every errno on each call (~0.15 ms; an `rm -f` of 50
 * containers converts ~100 errnos: every root's umount2 loop ends on EINVAL).
 */
function systemError(errno: number): [string, string] | undefined {
  systemErrors ??= getSystemErrorMap();
  return systemErrors.get(-errno);
}

/** `ENOENT: no such file or directory`, from an errno. */
export function errnoText(errno: number): string {
  const e = systemError(errno);
  return e ? `${e[0]}: ${e[1]}` : `errno ${errno}`;
}

/**
 * A Node-style errno error (`code` `ENOENT`, `errno` negative, `syscall`), for the `cause` of a
 * BerthError so callers can tell EINVAL from EBUSY without reading the message.
 */
export function errnoError(errno: number, syscall: string): NodeJS.ErrnoException {
  const e = systemError(errno);
  const err: NodeJS.ErrnoException = new Error(`${syscall}: ${errnoText(errno)}`);
  err.code = e ? e[0] : `E${errno}`;
  err.errno = -errno;
  err.syscall = syscall;
  return err;
}

/**
 * `job` (an addon call on a libuv pool thread, which cannot be cancelled), or the signal's reason
 * as soon as it aborts: the job then still completes on its thread and nobody reads its result.
 */
export async function untilAborted<T>(job: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return job;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([job, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
