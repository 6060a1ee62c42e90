import { createRequire } from 'node:module';
import { BerthError, type FsCalls } from '@berth/oci';

let cp: typeof import('node:child_process') | undefined;

/**
 * `node:child_process`, required on first use (`berth run` imports this package and runs no
 * tool). A require, not `import()`: the CLI's bundle runs in a `vm.Script`, which has no loader
 * for a dynamic import of a built-in.
 */
export function childProcess(): typeof import('node:child_process') {
  cp ??= createRequire(import.meta.url ?? '/')('node:child_process') as typeof import('node:child_process');
  return cp;
}

/**
 * Runs a helper tool and waits for it; failure is `TOOL_FAILED` naming the command and its
 * stderr. Used only where Node has no API: {@link toolFsCalls} (the default of syncfs(2),
 * mknod(2) and `chattr +T`), mount(8) and cp(1). `node:child_process` is loaded on the first
 * call: an apply worker thread imports this module and never spawns (its isolate would compile
 * child_process and the modules it pulls in for nothing).
 */
export async function runTool(
  file: string,
  args: readonly string[],
  options: { cwd?: string; signal?: AbortSignal } = {},
): Promise<string> {
  const { execFile } = childProcess();
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, signal: options.signal, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const detail = String(stderr).trim() || err.message;
          reject(
            new BerthError('TOOL_FAILED', `${file} ${args.join(' ')}: ${detail}`, {
              input: { field: file },
              cause: err,
            }),
          );
        } else resolve(String(stdout));
      },
    );
  });
}

/**
 * The default {@link FsCalls}: coreutils, one process each (`sync -f`, `mknod`, `mkfifo`,
 * `chattr +T`). Each is a fork of this process; `@berth/engine` passes `@berth/runtime`'s
 * system calls instead. Failures are `TOOL_FAILED` naming the command and its stderr.
 */
export const toolFsCalls: FsCalls = {
  async syncfs(path, opts = {}) {
    await runTool('sync', ['-f', path], opts.signal ? { signal: opts.signal } : {});
  },
  async mknod(path, kind, mode, major, minor) {
    const m = (mode & 0o777).toString(8);
    if (kind === 'p') await runTool('mkfifo', ['-m', m, '--', path]);
    else await runTool('mknod', ['-m', m, '--', path, kind, String(major), String(minor)]);
  },
  async setTopDir(path) {
    await runTool('chattr', ['+T', path]);
  },
};
