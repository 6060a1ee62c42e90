/**
 * Attach and terminals for the container service: what `docker run -i -t`, `docker start -a
 * -i` and `docker attach` need from the engine. The streams themselves go through berth-shim's
 * control socket (`@berth/runtime` attach); this file decides, from the container's record,
 * what an attach may do (docker's rules) and puts the terminal into the spec at each start.
 */
import { type Readable, Writable } from 'node:stream';
import { BerthError, type Spec } from '@berth/oci';
import { type AttachEnd, parseDetachKeys, type Runtime } from '@berth/runtime';
import { ContainerErrorCode } from './errors.js';
import type { ContainerConfig, ContainerRecord, ContainerStateInfo } from './types.js';

/** A terminal's size in character cells. */
export interface TerminalSize {
  rows: number;
  cols: number;
}

/** Options of {@link ContainerService.attach} and {@link ContainerService.startAttached}. */
export interface ContainerAttachOptions {
  /**
   * The caller's input: sent to the container's terminal (`-t`) or to its stdin pipe. Only a
   * container created with `openStdin` (docker's `-i`) takes it; for others it is ignored, as
   * docker ignores it.
   */
  stdin?: Readable;
  /** The container's stdout (with a terminal: everything it prints). */
  stdout?: Writable;
  /** The container's stderr (no terminal); without it stderr is not attached. */
  stderr?: Writable;
  /**
   * docker's `--detach-keys` (default `ctrl-p,ctrl-q`). As in docker, they act only on a
   * container with a terminal; without one every byte reaches the container.
   */
  detachKeys?: string;
  /** The terminal's size for a start (`startAttached` of a `-t` container). */
  consoleSize?: TerminalSize;
  signal?: AbortSignal;
}

/** A live attach: how it ended, and the terminal's resize. */
export interface ContainerAttachment {
  /** Whether the container has a terminal (its output is one raw stream). */
  readonly tty: boolean;
  /**
   * Settles when the stream ends: `exited` (the container's output ended), `detached` (the
   * detach keys were typed; the container keeps running) or `closed` (close() or the signal).
   */
  readonly done: Promise<AttachEnd>;
  /** Sets the container's window size (a `-t` container only). */
  resize(size: TerminalSize): Promise<void>;
  /** Ends the attach; the container keeps running. */
  close(): void;
}

/**
 * docker's refusal to attach to a container that is not running (its CLI checks the same
 * states before it attaches).
 *
 * @throws BerthError CONTAINER_NOT_RUNNING
 */
export function checkAttachable(state: ContainerStateInfo, ref: string): void {
  const why = state.Paused
    ? 'You cannot attach to a paused container, unpause it first'
    : state.Restarting
      ? 'You cannot attach to a restarting container, wait until it is running'
      : !state.Running
        ? 'You cannot attach to a stopped container, start it first'
        : undefined;
  if (why) throw new BerthError(ContainerErrorCode.CONTAINER_NOT_RUNNING, why, { input: { ref } });
}

/**
 * Checks docker's detach-keys syntax before anything starts.
 *
 * @throws BerthError INVALID_DETACH_KEYS
 */
export function checkDetachKeys(keys: string | undefined): void {
  if (keys !== undefined) parseDetachKeys(keys);
}

/** Opens the runtime attach for a container record (created or running). */
export async function attachRecord(
  rt: Runtime,
  rec: ContainerRecord,
  o: ContainerAttachOptions,
): Promise<ContainerAttachment> {
  const tty = rec.Config.Tty;
  // docker: stdin goes in only when the container keeps one open (`-i`; with `-t` its input is
  // the pty); detach keys act only with a terminal (moby container/stream/attach.go)
  const takesInput = rec.Config.OpenStdin;
  const sink = discard();
  const h = await rt.attach(rec.Id, {
    ...(o.stdin && takesInput ? { stdin: o.stdin } : {}),
    stdout: o.stdout ?? sink,
    stderr: o.stderr ?? sink,
    tty,
    detachKeys: tty ? (o.detachKeys ?? 'ctrl-p,ctrl-q') : '',
    closeStdin: rec.Config.StdinOnce,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return {
    tty,
    done: h.done,
    resize: (size) => h.resize(size),
    close: () => h.close(),
  };
}

/**
 * The terminal in a start's spec: docker's `Tty` is OCI `process.terminal` with the client's
 * window size, and the daemon adds `TERM=xterm` unless the container sets TERM itself
 * (moby container.CreateDaemonEnvironment).
 */
export function applyTerminal(spec: Spec, config: ContainerConfig, size?: TerminalSize): void {
  const p = spec.process;
  if (!p || !config.Tty) return;
  p.terminal = true;
  if (size && size.rows > 0 && size.cols > 0) p.consoleSize = { height: size.rows, width: size.cols };
  const env = p.env ?? [];
  if (!env.some((e) => e.startsWith('TERM='))) p.env = ['TERM=xterm', ...env];
}

/** A writable that drops what it gets (a stream the caller did not attach). */
function discard(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}
