import { createRequire } from 'node:module';
import { BerthError } from '@berth/oci';

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
 * stderr. Used only where Node has no API: mknod(2) and mkfifo(3) (a rare entry type, so one
 * process each is cheap next to a native addon), syncfs(2) once per layer (`sync -f`), and
 * mount(8) and cp(1).
 */
export function runTool(
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

/** mknod(1) in `dir` (a directory already verified to lie inside the root), by base name. */
export function mknod(
  dir: string,
  name: string,
  kind: 'c' | 'b',
  major: number,
  minor: number,
  mode: number,
): Promise<string> {
  return runTool(
    'mknod',
    ['-m', (mode & 0o7777).toString(8), '--', name, kind, String(major), String(minor)],
    {
      cwd: dir,
    },
  );
}

/** mkfifo(1) in `dir` (verified inside the root), by base name. */
export function mkfifo(dir: string, name: string, mode: number): Promise<string> {
  return runTool('mkfifo', ['-m', (mode & 0o7777).toString(8), '--', name], { cwd: dir });
}

/** syncfs(2) of the filesystem holding `path`, through coreutils `sync -f`. */
export function syncfs(path: string, signal?: AbortSignal): Promise<string> {
  return runTool('sync', ['-f', path], signal ? { signal } : {});
}
