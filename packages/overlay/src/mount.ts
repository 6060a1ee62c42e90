import { BerthError, type Mount, type Mounter } from '@berth/oci';
import { childProcess } from './tools.js';

/** Linux's limit on mount(2) option data: one page. */
export const MOUNT_DATA_LIMIT = 4096;

/** A mount(8) invocation: arguments and the working directory it must run in. */
export interface MountCommand {
  /** Arguments of `mount`. */
  args: string[];
  /** Working directory, when relative lowerdirs were needed to fit the page limit. */
  cwd?: string;
}

/**
 * Turns a {@link Mount} into a mount(8) invocation. The overlay option string must fit in one
 * page; when absolute lowerdirs do not, they are made relative to their longest common
 * directory and the command runs there, as containerd's `compactLowerdirOption` does (with
 * berth's numeric snapshot dirs a lower then costs about 8 bytes: 120+ layers fit easily).
 * Pure: unit-tested without root.
 * @throws MOUNT_FAILED when even the compact form exceeds the limit
 */
export function mountCommand(mount: Mount, target: string, limit = MOUNT_DATA_LIMIT): MountCommand {
  const isBind = mount.type === 'bind' || mount.options.includes('bind') || mount.options.includes('rbind');
  let options = mount.options;
  let cwd: string | undefined;
  if (mount.type === 'overlay' && options.join(',').length >= limit) {
    const i = options.findIndex((o) => o.startsWith('lowerdir='));
    const lowers = i < 0 ? [] : options[i]!.slice('lowerdir='.length).split(':');
    const common = commonDir(lowers);
    if (common !== '' && common !== '/') {
      cwd = common;
      options = options.map((o, k) =>
        k === i ? `lowerdir=${lowers.map((l) => l.slice(common.length + 1)).join(':')}` : o,
      );
    }
    if (options.join(',').length >= limit) {
      throw new BerthError(
        'MOUNT_FAILED',
        `mount ${target}: overlay options are ${options.join(',').length} bytes, over the ${limit}-byte page`,
        { input: { field: 'options' } },
      );
    }
  }
  const args = isBind ? [] : ['-t', mount.type];
  if (options.length > 0) args.push('-o', options.join(','));
  args.push('--', mount.source, target);
  return cwd === undefined ? { args } : { args, cwd };
}

function commonDir(paths: string[]): string {
  if (paths.length === 0 || !paths.every((p) => p.startsWith('/'))) return '';
  let prefix = paths[0]!.split('/');
  for (const p of paths.slice(1)) {
    const parts = p.split('/');
    let n = 0;
    while (n < prefix.length && n < parts.length && prefix[n] === parts[n]) n++;
    prefix = prefix.slice(0, n);
  }
  // a lower must keep at least its last component
  if (paths.some((p) => p.split('/').length === prefix.length)) prefix = prefix.slice(0, -1);
  return prefix.join('/') || '/';
}

function run(args: string[], cwd: string | undefined, signal: AbortSignal | undefined, what: string) {
  const { spawn } = childProcess();
  return new Promise<void>((resolve, reject) => {
    const child = spawn(args[0]!, args.slice(1), {
      cwd,
      signal,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err) =>
      reject(
        new BerthError('MOUNT_FAILED', `${what}: ${err.message}`, { input: { field: what }, cause: err }),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new BerthError('MOUNT_FAILED', `${what}: ${stderr.trim() || `exit ${code}`}`, {
            input: { field: what },
          }),
        );
    });
  });
}

/**
 * The default {@link Mounter}: util-linux mount(8) and umount(8), one process each (5-15 ms of a
 * fork and exec; the `mount` binary is everywhere overlay is). `@berth/engine` injects
 * `@berth/runtime`'s mount(2)/umount2(2) instead: one system call, no process.
 */
export const commandMounter: Mounter = {
  mount(source, target, type, options, opts = {}) {
    opts.signal?.throwIfAborted();
    const cmd = mountCommand({ type, source, options: [...options] }, target, Number.POSITIVE_INFINITY);
    return run(['mount', ...cmd.args], undefined, opts.signal, `mount ${target}`);
  },
  unmount(target, opts = {}) {
    opts.signal?.throwIfAborted();
    return run(
      ['umount', ...(opts.lazy ? ['-l'] : []), '--', target],
      undefined,
      opts.signal,
      `umount ${target}`,
    );
  },
};

/**
 * Performs mounts on `target` in order (the first on `target` itself) through `mounter`
 * (default {@link commandMounter}: mount(8); `@berth/engine` passes `@berth/runtime`'s mount(2)).
 * Only an overlay whose option string needs relative lowerdirs to fit a page always runs
 * mount(8), in the lowers' directory: mount(2) resolves them against the process's working
 * directory, which Node shares with every thread. Needs root (CAP_SYS_ADMIN).
 * @throws MOUNT_FAILED naming the target and the errno (or mount(8)'s message)
 */
export async function mountAll(
  mounts: readonly Mount[],
  target: string,
  options: { mounter?: Mounter; signal?: AbortSignal } = {},
): Promise<void> {
  const mounter = options.mounter ?? commandMounter;
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  for (const m of mounts) {
    options.signal?.throwIfAborted();
    const where = m.target === undefined ? target : `${target}/${m.target}`;
    const cmd = mountCommand(m, where);
    if (cmd.cwd === undefined) await mounter.mount(m.source, where, m.type, m.options, signal);
    else await run(['mount', ...cmd.args], cmd.cwd, options.signal, `mount ${where}`);
  }
}

/**
 * Unmounts `target` through `mounter` (default {@link commandMounter}: umount(8); `@berth/engine`
 * passes `@berth/runtime`'s umount2(2)); `lazy` detaches a busy mount (MNT_DETACH).
 * @throws MOUNT_FAILED naming the target (also when nothing is mounted there)
 */
export async function unmount(
  target: string,
  options: { lazy?: boolean; mounter?: Mounter; signal?: AbortSignal } = {},
): Promise<void> {
  options.signal?.throwIfAborted();
  const { mounter = commandMounter, ...rest } = options;
  await mounter.unmount(target, rest);
}
