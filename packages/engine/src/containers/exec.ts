/**
 * `docker exec` for the container service: a new process in a running container, through
 * `@berth/runtime` exec (berth-shim joins the container's namespaces and cgroup, with its
 * capabilities and seccomp filter unless privileged). This file holds docker's rules around it:
 * which states refuse an exec and with which words, and how a launch failure reads.
 */
import type { Readable, Writable } from 'node:stream';
import { BerthError, isBerthError } from '@berth/oci';
import type { Runtime } from '@berth/runtime';
import type { TerminalSize } from './attach.js';
import { ContainerErrorCode } from './errors.js';
import type { ContainerRecord, ContainerStateInfo } from './types.js';

/** Options of {@link ContainerService.exec} — `docker exec`'s flags as data. */
export interface ContainerExecOptions {
  /** The command and its arguments; a name without `/` is searched in the container's PATH. */
  cmd: string[];
  /** `NAME=value` entries added to the container's env (`-e`, `--env-file`). */
  env?: string[];
  /** `-w`: the working directory inside the container (default the container's). */
  workdir?: string;
  /** `-u`: `uid[:gid]` or `name[:group]`, resolved in the container's /etc/passwd and group. */
  user?: string;
  /** `--privileged`: every capability, no seccomp filter. */
  privileged?: boolean;
  /** `-t`: a terminal allocated in the container's devpts. */
  tty?: boolean;
  /** The terminal's size at start (`-t`). */
  consoleSize?: TerminalSize;
  /** `-i`: fed to the process's stdin (with `-t`: its terminal); else stdin is /dev/null. */
  stdin?: Readable;
  stdout?: Writable;
  /** Ignored with `tty` (a terminal merges both streams onto stdout). */
  stderr?: Writable;
  /** `-d`: resolve with 0 once the process runs, and leave it running on its own. */
  detach?: boolean;
  /** Called once the process runs, with its terminal's resize (`-t`). */
  onStarted?: (exec: { pid: number; resize(size: TerminalSize): Promise<void> }) => void;
  signal?: AbortSignal;
}

/** The result of {@link ContainerService.exec}. */
export interface ContainerExecResult {
  /** The process's exit code (128 + signal when killed); 0 for a detached exec. */
  ExitCode: number;
}

/**
 * docker's refusals (moby daemon/exec.go): a stopped or restarting container, or a paused one.
 *
 * @throws BerthError CONTAINER_NOT_RUNNING
 */
export function checkExecutable(state: ContainerStateInfo, id: string): void {
  if (state.Paused)
    throw new BerthError(
      ContainerErrorCode.CONTAINER_NOT_RUNNING,
      `Container ${id} is paused, unpause the container before exec`,
      { input: { ref: id } },
    );
  if (!state.Running || state.Restarting)
    throw new BerthError(
      ContainerErrorCode.CONTAINER_NOT_RUNNING,
      `Container ${id} is ${state.Restarting ? 'restarting, wait until the container is running' : 'not running'}`,
      { input: { ref: id } },
    );
}

/**
 * Runs an exec in the container of `rec` (already checked running).
 *
 * @throws BerthError EXEC_NOT_FOUND (docker's 127), EXEC_PERMISSION_DENIED (126), LAUNCH_FAILED,
 *   USER_NOT_FOUND, GROUP_NOT_FOUND, CONTAINER_NOT_RUNNING (it stopped meanwhile)
 */
export async function execRecord(
  rt: Runtime,
  rec: ContainerRecord,
  o: ContainerExecOptions,
): Promise<ContainerExecResult> {
  if (o.cmd.length === 0 || o.cmd[0] === '')
    throw new BerthError('INVALID_OPTION', 'exec: no command specified', { input: { field: 'cmd' } });
  try {
    const r = await rt.exec(rec.Id, {
      args: o.cmd,
      ...(o.env?.length ? { env: o.env } : {}),
      ...(o.workdir ? { cwd: o.workdir } : {}),
      ...(o.user ? { user: o.user } : {}),
      ...(o.privileged ? { privileged: true } : {}),
      ...(o.tty ? { tty: true } : {}),
      ...(o.tty && o.consoleSize && o.consoleSize.rows > 0 && o.consoleSize.cols > 0
        ? { consoleSize: o.consoleSize }
        : {}),
      ...(o.stdin && !o.detach ? { stdin: o.stdin } : {}),
      ...(o.stdout && !o.detach ? { stdout: o.stdout } : {}),
      ...(o.stderr && !o.detach ? { stderr: o.stderr } : {}),
      ...(o.detach ? { detach: true } : {}),
      ...(o.onStarted ? { onStarted: o.onStarted } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return { ExitCode: r.exitCode };
  } catch (err) {
    // docker (runc): `OCI runtime exec failed: exec failed: unable to start container process:
    // exec: "x": executable file not found in $PATH: unknown`
    if (isBerthError(err, 'EXEC_NOT_FOUND') || isBerthError(err, 'EXEC_PERMISSION_DENIED')) {
      // the runtime's text: `container <id>: exec: <step>: exec: "x": …`
      const detail = err.message.replace(/^container [0-9a-f]+: exec: (exec: )?/, '');
      throw new BerthError(
        err.code,
        `OCI runtime exec failed: exec failed: unable to start container process: ${detail}: unknown`,
        { input: { field: 'cmd' }, cause: err },
      );
    }
    if (isBerthError(err, 'CONTAINER_NOT_RUNNING'))
      throw new BerthError(ContainerErrorCode.CONTAINER_NOT_RUNNING, `Container ${rec.Id} is not running`, {
        input: { ref: rec.Id },
        cause: err,
      });
    throw err;
  }
}
