import { Writable } from 'node:stream';
import type { AttachEnd, ContainerAttachment, ContainerAttachOptions, Engine } from '@berth/engine';
import { isBerthError } from '@berth/oci';
import type { InStream, OutStream } from '../io.js';
import type { CommandContext } from './spec.js';
import { followWindowSize, rawMode, windowSize } from './terminal.js';

/**
 * What the container commands share: streaming a container's output to the terminal (run,
 * start -a), forwarding signals (docker's `--sig-proxy`), and docker's per-container error
 * reporting for commands that take several containers.
 */

/** Signals docker's client forwards to an attached container. */
const PROXIED: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];

/** Forwards the CLI's signals to the container until the returned function is called. */
export function proxySignals(engine: Engine, id: string): () => void {
  const handlers = PROXIED.filter((s) => s !== 'SIGWINCH').map((s) => {
    const h = () => {
      engine.containers.kill(id, { signal: s }).catch(() => {});
    };
    process.on(s, h);
    return [s, h] as const;
  });
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}

/** Copies a container's log (following it) to stdout/stderr until the container stops. */
export async function streamOutput(
  ctx: CommandContext,
  engine: Engine,
  id: string,
  opts: { stdout: boolean; stderr: boolean },
): Promise<void> {
  const logs = await engine.containers.logs(id, {
    follow: true,
    stdout: opts.stdout,
    stderr: opts.stderr,
  });
  for await (const e of logs) (e.stream === 'stdout' ? ctx.io.stdout : ctx.io.stderr).write(e.log);
}

/**
 * Runs `fn` for every argument at once (docker's client sends these requests concurrently),
 * then prints each result or error in argument order, as docker does (`Error response from
 * daemon: …`; berth prints `Error: …`), returning 1 when any failed.
 */
export async function eachContainer(
  ctx: CommandContext,
  fn: (ref: string) => Promise<string>,
): Promise<number> {
  const results = await Promise.allSettled(ctx.args.map((ref) => fn(ref)));
  let failed = false;
  for (const r of results) {
    if (r.status === 'fulfilled') {
      ctx.io.stdout.write(r.value);
      continue;
    }
    if (!isBerthError(r.reason)) throw r.reason;
    failed = true;
    ctx.io.stderr.write(`Error: ${r.reason.message}\n`);
  }
  return failed ? 1 : 0;
}

/** The CLI's standard input (the real process's when the caller gave none). */
export function inputOf(ctx: CommandContext): InStream {
  return ctx.io.stdin ?? process.stdin;
}

/** A Writable over one of the CLI's output streams (the process's own are Writables already). */
export function writableOf(out: OutStream): Writable {
  if (out instanceof Writable) return out;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.write(chunk);
      cb();
    },
  });
}

/** What {@link attachedSession} attaches. */
export interface SessionOptions {
  /** The container has a terminal (`-t`): raw mode, one output stream, the window size. */
  tty: boolean;
  /** Send the CLI's stdin (`-i`, `-a stdin`, attach without --no-stdin). */
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** `--detach-keys`. */
  detachKeys?: string;
  /**
   * docker attach's redraw: the size plus one, then the real size, so the program repaints
   * (a second attach to a shell shows its prompt without a keypress).
   */
  nudge?: boolean;
}

/**
 * One attached session, as docker's hijackedIOStreamer runs it: the terminal in raw mode when
 * the container has one and stdin goes to it, the streams given to `open` (which attaches, and
 * for run/start also starts), the window size followed on SIGWINCH, until the session ends.
 * The terminal is restored and stdin released on every way out.
 */
export async function attachedSession(
  ctx: CommandContext,
  o: SessionOptions,
  open: (streams: ContainerAttachOptions) => Promise<ContainerAttachment>,
): Promise<AttachEnd> {
  const stdin = o.stdin ? inputOf(ctx) : undefined;
  const restore = o.tty && stdin ? rawMode(stdin) : () => {};
  let unfollow = () => {};
  try {
    const size = o.tty ? windowSize(ctx.io.stdout) : undefined;
    const h = await open({
      ...(stdin ? { stdin } : {}),
      ...(o.stdout ? { stdout: writableOf(ctx.io.stdout) } : {}),
      // a terminal merges both streams; docker's client writes them to stdout
      ...(o.stderr ? { stderr: writableOf(o.tty ? ctx.io.stdout : ctx.io.stderr) } : {}),
      ...(o.detachKeys !== undefined && o.detachKeys !== '' ? { detachKeys: o.detachKeys } : {}),
      ...(size ? { consoleSize: size } : {}),
    });
    if (h.tty) {
      if (o.nudge && size) await h.resize({ rows: size.rows + 1, cols: size.cols + 1 }).catch(() => {});
      unfollow = followWindowSize(ctx.io.stdout, (s) => h.resize(s));
    }
    return await h.done;
  } finally {
    unfollow();
    restore();
    // nothing reads it any more: let the process exit
    stdin?.destroy();
  }
}
