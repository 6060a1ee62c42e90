import { BerthError } from '@berth/oci';
import type { InStream } from '../io.js';

/**
 * The CLI's own terminal while a container's terminal is attached (run -t, start -a, attach,
 * exec -t): raw mode on the input, restored on every way out (the end of the session, an
 * error, `process.exit`, and the signals that would otherwise end the process with the
 * terminal still raw), and the window size followed with SIGWINCH — docker's
 * hijackedIOStreamer and MonitorTtySize.
 */

/** A terminal's size in character cells. */
export interface WindowSize {
  rows: number;
  cols: number;
}

/** docker's CheckTty: a terminal can be attached only from a terminal. */
export function checkTty(stdin: InStream, attachStdin: boolean, tty: boolean): void {
  if (tty && attachStdin && !stdin.isTTY)
    throw new BerthError('INPUT_NOT_A_TTY', 'the input device is not a TTY', { input: { field: 'tty' } });
}

/** The size of the terminal on `out`, when it is one. */
export function windowSize(out: {
  isTTY?: boolean;
  rows?: number;
  columns?: number;
}): WindowSize | undefined {
  if (!out.isTTY || !out.rows || !out.columns) return undefined;
  return { rows: out.rows, cols: out.columns };
}

/** Signals whose default action ends the process: the terminal is restored, then they act. */
const FATAL: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGINT'];

/**
 * Puts `stdin` in raw mode when it is a terminal and returns the (idempotent) restore. While raw,
 * a fatal signal nobody else handles restores the terminal and is raised again, so the process
 * still ends the way that signal ends it.
 */
export function rawMode(stdin: InStream): () => void {
  if (!stdin.isTTY || !stdin.setRawMode) return () => {};
  stdin.setRawMode(true);
  let restored = false;
  const handlers = FATAL.map((sig) => {
    const h = () => {
      // another handler (the signal proxy) owns it: leave it to that one
      if (process.listenerCount(sig) > 1) return;
      restore();
      process.kill(process.pid, sig);
    };
    return [sig, h] as const;
  });
  const restore = () => {
    if (restored) return;
    restored = true;
    for (const [sig, h] of handlers) process.off(sig, h);
    process.off('exit', restore);
    try {
      stdin.setRawMode?.(false);
    } catch {
      // the terminal is gone (hangup): nothing to restore
    }
  };
  for (const [sig, h] of handlers) process.on(sig, h);
  process.on('exit', restore);
  return restore;
}

/**
 * Sends the terminal's size now and at every SIGWINCH until the returned function is called.
 * Errors (the container ended meanwhile) are ignored, as docker's monitor ignores them.
 */
export function followWindowSize(
  out: { isTTY?: boolean; rows?: number; columns?: number },
  resize: (size: WindowSize) => Promise<void>,
): () => void {
  const send = () => {
    const size = windowSize(out);
    if (size) resize(size).catch(() => {});
  };
  send();
  process.on('SIGWINCH', send);
  return () => {
    process.off('SIGWINCH', send);
  };
}
