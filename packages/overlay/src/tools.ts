import { execFile } from 'node:child_process';
import { BerthError } from '@berth/oci';

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
