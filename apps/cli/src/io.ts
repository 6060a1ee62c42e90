import type { Readable } from 'node:stream';

/** The CLI's standard input as the interactive commands use it. */
export interface InStream extends Readable {
  /** Whether it is a terminal. */
  isTTY?: boolean;
  /** Raw mode on a terminal (tty.ReadStream). */
  setRawMode?(mode: boolean): unknown;
}

/** A writable stream as the CLI uses it. */
export interface OutStream {
  /** Writes text (or a container's raw bytes). */
  write(chunk: string | Uint8Array): unknown;
  /** Whether it is a terminal. */
  isTTY?: boolean;
  /** Terminal width, when it is one. */
  columns?: number;
  /** Terminal height, when it is one. */
  rows?: number;
}

/** The CLI's standard streams and environment; tests pass captured ones to `runCli`. */
export interface CliIO {
  /** Standard output. */
  stdout: OutStream;
  /** Standard error. */
  stderr: OutStream;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
  /** Standard input, for the interactive commands (run -i, attach, exec -i); default none. */
  stdin?: InStream;
}

/** The standard output streams {@link processIO} has made. */
const opened = new Set<NodeJS.WriteStream>();

/**
 * Whether output written to the real standard streams is still queued: a pipe whose reader is
 * behind takes it in the background, and `process.exit` would drop it.
 */
export function outputPending(): boolean {
  for (const s of opened) if (s.writableLength > 0) return true;
  return false;
}

/** The real process's streams and environment. */
export function processIO(): CliIO {
  return {
    // getters: a stream is made on first use (a pipe's costs node:net and a socket; `berth
    // images` never touches stderr)
    get stdout() {
      opened.add(process.stdout);
      return process.stdout;
    },
    get stderr() {
      opened.add(process.stderr);
      return process.stderr;
    },
    env: process.env,
    // a getter: process.stdin is opened only by a command that reads it
    get stdin() {
      return process.stdin;
    },
  };
}
