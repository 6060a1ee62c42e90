/**
 * exec: a new process in a running container. The same berth-shim binary runs it, from a
 * launch description that joins every namespace of the container by `/proc/<init>/ns/<type>`
 * (the shim enters the pid namespace before it forks, the others in the child, mount last),
 * with the container's capabilities, seccomp filter, no_new_privs and rlimits unless
 * privileged, and the exec's own user, env, cwd and terminal. The shim reports `created`
 * before the process runs, so the caller places it in the container's cgroup first (the
 * onCreated pattern of create), and exits with the process's status.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BerthError, type Spec } from '@berth/oci';
import { detectCgroupHost } from './cgroups/mountinfo.js';
import { childProcess } from './child-process.js';
import { writeFileReplace } from './fs-util.js';
import { encodeLaunch, type LaunchDescription, type NamespaceType } from './launch-spec.js';
import { parseShimMessage, SHIM_EXIT, type SyncMessage } from './shim-protocol.js';
import { resolveUser } from './user.js';

/** Options of {@link Runtime.exec}. */
export interface ExecOptions {
  /** The command; `args[0]` without a slash is searched in the PATH of the exec's env. */
  args: readonly string[];
  /** `NAME=value` entries added to (or replacing) the container's env (docker exec -e). */
  env?: readonly string[];
  /** Working directory inside the container; default the container's. */
  cwd?: string;
  /** docker's `--user`: `uid[:gid]` or `name[:group]`, resolved in the container's /etc/passwd. */
  user?: string;
  /** Run on a terminal allocated in the container's devpts (docker exec -t). */
  tty?: boolean;
  /** The terminal's initial size. */
  consoleSize?: { rows: number; cols: number };
  /** Fed to the process's stdin (the shim's own stdin, passed on; with tty: copied to the
   * terminal); without it stdin is /dev/null. */
  stdin?: Readable;
  stdout?: Writable;
  /** Ignored with tty (the terminal merges both streams onto stdout). */
  stderr?: Writable;
  /** All capabilities, no seccomp filter (docker exec --privileged). */
  privileged?: boolean;
  /**
   * docker exec -d: resolve with exit code 0 as soon as the process runs, and leave it to its
   * shim (a new session, stdio on /dev/null), so it outlives the caller.
   */
  detach?: boolean;
  /** Called once the process runs; `resize` sets its terminal's size. */
  onStarted?: (info: { pid: number; resize(size: { rows: number; cols: number }): Promise<void> }) => void;
  signal?: AbortSignal;
}

/** How an exec ended. */
export interface ExecResult {
  /** The process's exit code, or 128 + the signal that killed it. */
  exitCode: number;
}

const NS_FILE: Readonly<Record<string, { type: NamespaceType; file: string }>> = {
  pid: { type: 'pid', file: 'pid' },
  network: { type: 'net', file: 'net' },
  mount: { type: 'mount', file: 'mnt' },
  ipc: { type: 'ipc', file: 'ipc' },
  uts: { type: 'uts', file: 'uts' },
  cgroup: { type: 'cgroup', file: 'cgroup' },
  user: { type: 'user', file: 'user' },
};

/** What {@link execLaunch} needs besides the container's spec and the exec's options. */
export interface ExecLaunchContext {
  /** The exec's id (for the shim's log), `<container>.exec-<hex>`. */
  id: string;
  /** The container's init, as seen from the host. */
  pid: number;
  /** The container's /etc/passwd and /etc/group contents, for a named `user`. */
  files?: { passwd?: string; group?: string };
  /** The compiled seccomp program of the container's `linux.seccomp`. */
  seccomp?: Uint8Array;
  /** A control socket, for resize (tty only). */
  controlSocket?: string;
  shimLog?: string;
}

function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) {
    const eq = e.indexOf('=');
    if (eq <= 0)
      throw new BerthError('LAUNCH_INVALID', `exec env "${e}": not NAME=value`, { input: { field: 'env' } });
    out.set(e.slice(0, eq), e);
  }
  return [...out.values()];
}

/**
 * The launch description of an exec: pure, from the container's spec, its init pid and the
 * exec's options.
 *
 * @throws BerthError LAUNCH_INVALID, USER_NOT_FOUND, GROUP_NOT_FOUND
 */
export function execLaunch(spec: Spec, opts: ExecOptions, ctx: ExecLaunchContext): LaunchDescription {
  const p = spec.process;
  if (!p)
    throw new BerthError('LAUNCH_INVALID', 'exec: the container has no process', {
      input: { field: 'process' },
    });
  if (!Array.isArray(opts.args) || opts.args.length === 0 || opts.args[0] === '')
    throw new BerthError('LAUNCH_INVALID', 'exec: no command', { input: { field: 'args' } });
  if (!Number.isInteger(ctx.pid) || ctx.pid < 1)
    throw new BerthError('LAUNCH_INVALID', `exec: container pid ${ctx.pid}`, { input: { field: 'pid' } });
  const namespaces: { type: NamespaceType; path: string }[] = [];
  for (const ns of spec.linux?.namespaces ?? []) {
    const m = NS_FILE[ns.type];
    if (!m)
      throw new BerthError('LAUNCH_INVALID', `exec: "${ns.type}" namespaces are not supported`, {
        input: { field: 'linux.namespaces' },
      });
    namespaces.push({ type: m.type, path: `/proc/${ctx.pid}/ns/${m.file}` });
  }
  const user = opts.user
    ? resolveUser(opts.user, ctx.files ?? {})
    : { uid: p.user.uid, gid: p.user.gid, additionalGids: [...(p.user.additionalGids ?? [])] };
  const env = mergeEnv(p.env ?? [], opts.env ?? []);
  const d: LaunchDescription = {
    id: ctx.id,
    namespaces,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    cwd: opts.cwd || p.cwd || '/',
    args: opts.args,
    env,
    rlimits: (p.rlimits ?? []).map((r) => ({ type: r.type, soft: r.soft, hard: r.hard })),
    noNewPrivileges: p.noNewPrivileges === true,
    stdio: 'inherit',
    syncFd: 3,
  };
  if (opts.user && 'home' in user && !env.some((e) => e.startsWith('HOME=')))
    d.env = [...env, `HOME=${(user as { home: string }).home}`];
  if (p.user.umask !== undefined) d.umask = p.user.umask;
  // privileged: no capability lines, so the process keeps every capability the shim has
  // (all the host grants; naming all 41 would fail capset on a host whose bounding set lacks one)
  if (!opts.privileged) {
    const c = p.capabilities;
    if (c)
      d.capabilities = {
        bounding: c.bounding ?? [],
        effective: c.effective ?? [],
        permitted: c.permitted ?? [],
        inheritable: c.inheritable ?? [],
        ambient: c.ambient ?? [],
      };
    if (spec.linux?.seccomp) {
      if (!ctx.seccomp)
        throw new BerthError('LAUNCH_INVALID', 'exec: no compiled seccomp filter given', {
          input: { field: 'linux.seccomp' },
        });
      d.seccomp = ctx.seccomp;
    }
  }
  if (opts.tty) {
    d.terminal = true;
    if (opts.consoleSize) d.consoleSize = opts.consoleSize;
    if (ctx.controlSocket) d.controlSocket = ctx.controlSocket;
  }
  if (ctx.shimLog) d.shimLog = ctx.shimLog;
  return d;
}

/** Reads `/etc/passwd` and `/etc/group` through the container's root, refusing symlinks. */
export async function readUserFiles(pid: number): Promise<{ passwd?: string; group?: string }> {
  const root = `/proc/${pid}/root`;
  const read = async (rel: string): Promise<string | undefined> => {
    // a symlink here would resolve against our root, not the container's: not followed
    for (const p of ['/etc', rel]) {
      const st = await lstat(join(root, p)).catch(() => undefined);
      if (!st || st.isSymbolicLink()) return undefined;
    }
    const st = await lstat(join(root, rel));
    if (!st.isFile() || st.size > 4 * 1024 * 1024) return undefined;
    return readFile(join(root, rel), 'utf8');
  };
  const [passwd, group] = await Promise.all([read('/etc/passwd'), read('/etc/group')]);
  return { ...(passwd !== undefined ? { passwd } : {}), ...(group !== undefined ? { group } : {}) };
}

/**
 * Puts `pid` in every cgroup the container's init is in, hierarchy by hierarchy, from
 * /proc/<init>/cgroup as seen from here: for containers whose cgroups another OCI runtime made.
 *
 * @throws BerthError CGROUP_WRITE_FAILED naming the file
 */
export async function joinCgroupsOf(initPid: number, pid: number): Promise<void> {
  const host = detectCgroupHost(await readFile('/proc/self/mountinfo', 'utf8'));
  const lines = (await readFile(`/proc/${initPid}/cgroup`, 'utf8')).split('\n').filter(Boolean);
  for (const line of lines) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    const ctrls = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (path === '/' || path.includes('/..')) continue;
    let mount: string | undefined;
    if (ctrls === '') mount = host.version === 2 ? host.root : host.unified;
    else if (host.version === 1) {
      const want = ctrls.split(',').sort().join(',');
      const h = host.hierarchies.find((x) => [...x.controllers].sort().join(',') === want && x.root === '/');
      mount = h?.mountpoint;
    }
    if (!mount) continue;
    const file = `${mount}${path}/cgroup.procs`;
    try {
      await writeFile(file, String(pid));
    } catch (err) {
      // a hybrid host's v2 line names a cgroup the runtime did not make there
      if (ctrls === '' && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new BerthError(
        'CGROUP_WRITE_FAILED',
        `cgroup file ${file}: write "${pid}": ${(err as Error).message}`,
        {
          input: { field: 'cgroup.procs' },
          cause: err,
        },
      );
    }
  }
}

/** An exec's launch, run: what the runtime hands to {@link runExec}. */
export interface RunExecArgs {
  shim: string;
  /** The container's directory: the launch file is written there and removed after. */
  dir: string;
  containerId: string;
  desc: LaunchDescription;
  opts: ExecOptions;
  /** Called with the process's host pid before it runs (cgroup placement). */
  onCreated?: (pid: number) => Promise<void>;
  /** Sends `resize` to the exec's control socket. */
  resize: (path: string, size: { rows: number; cols: number }) => Promise<void>;
}

/** A fresh exec id suffix. */
export function execSuffix(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Spawns berth-shim for an exec and waits for the process's exit.
 *
 * @throws BerthError EXEC_NOT_FOUND (127), EXEC_PERMISSION_DENIED (126), LAUNCH_FAILED (125)
 */
export async function runExec(a: RunExecArgs): Promise<ExecResult> {
  const { opts, desc } = a;
  const launchPath = join(a.dir, `${desc.id}.launch`);
  await writeFileReplace(launchPath, encodeLaunch(desc));
  const { spawn } = childProcess();
  try {
    const detach = opts.detach === true;
    const child = detach
      ? spawn(a.shim, [launchPath], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], detached: true })
      : spawn(a.shim, [launchPath], {
          stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
        });
    const sync = child.stdio[3] as Readable & Writable;
    let failure: (SyncMessage & { type: 'error' }) | undefined;
    const out = child.stdio[1] as Readable | null;
    const err = child.stdio[2] as Readable | null;
    out?.on('data', (c: Buffer) => opts.stdout?.write(c));
    // the shim's own launch errors come on stderr too; they are reported as a thrown error
    err?.on('data', (c: Buffer) => {
      if (failure === undefined && child.exitCode === null) opts.stderr?.write(c);
    });
    if (opts.stdin && !detach) {
      const stdinPipe = child.stdio[0] as Writable;
      stdinPipe.on('error', () => {});
      opts.stdin.pipe(stdinPipe);
    }
    // the shim relays SIGTERM to the process (a SIGKILL of the shim would orphan it)
    const onAbort = () => child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let running: () => void = () => {};
    const closed = new Promise<{ code: number | null; sig: NodeJS.Signals | null; running?: true }>(
      (r, reject) => {
        child.once('error', reject);
        child.once('close', (code, sig) => r({ code, sig }));
        running = () => r({ code: 0, sig: null, running: true });
      },
    );
    let buf = '';
    const handle = async (line: string) => {
      const msg = parseShimMessage(line);
      if (msg.type === 'created') {
        try {
          await a.onCreated?.(msg.pid);
          sync.write('continue\n');
        } catch (e) {
          sync.write('abort\n');
          throw e;
        }
      } else if (msg.type === 'started') {
        if (detach) {
          // the shim carries on alone once its sync fd closes (supervise.c)
          child.unref();
          sync.destroy();
          running();
          return;
        }
        const sock = desc.controlSocket;
        opts.onStarted?.({
          pid: msg.pid,
          resize: (size) =>
            sock
              ? a.resize(sock, size)
              : Promise.reject(new BerthError('CONTAINER_NOT_RUNNING', `exec ${desc.id}: has no terminal`)),
        });
      } else if (msg.type === 'error') {
        failure = msg;
      }
    };
    let chain: Promise<void> = Promise.resolve();
    sync.setEncoding('utf8');
    sync.on('data', (c: string) => {
      buf += c;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        chain = chain.then(() => handle(line));
      }
    });
    sync.on('error', () => {});
    const { code, sig, running: detached } = await closed;
    opts.signal?.removeEventListener('abort', onAbort);
    await chain;
    if (detached) return { exitCode: 0 };
    opts.signal?.throwIfAborted();
    if (failure) {
      const f = failure;
      const c =
        f.exitCode === SHIM_EXIT.NOT_FOUND
          ? 'EXEC_NOT_FOUND'
          : f.exitCode === SHIM_EXIT.CANNOT_EXEC
            ? 'EXEC_PERMISSION_DENIED'
            : 'LAUNCH_FAILED';
      throw new BerthError(c, `container ${a.containerId}: exec: ${f.step}: ${f.message}`, {
        input: { field: f.step },
        cause: f,
      });
    }
    if (code === null)
      throw new BerthError('LAUNCH_FAILED', `container ${a.containerId}: exec: berth-shim killed by ${sig}`);
    return { exitCode: code };
  } finally {
    await rm(launchPath, { force: true });
  }
}
