import { fstatSync, type Stats, writeSync } from 'node:fs';
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

/**
 * Whether `out` is the real process's stdout (a stream or the direct writer): `save` and
 * `export` then stream their tar into `process.stdout` itself.
 */
export function isProcessStdout(out: OutStream): boolean {
  return fdOf.get(out) === 1 || out === process.stdout;
}

/** The fd of each direct writer {@link processIO} made. */
const fdOf = new WeakMap<OutStream, number>();

/**
 * Whether `st` is one of Linux's memory devices (character devices of major 1: /dev/null,
 * /dev/zero, /dev/full), never a terminal. Node writes to these through a SyncWriteStream
 * (libuv calls a character device that is not a tty a file), as to a file. The major number is
 * glibc's `major()` of the 64-bit device number.
 */
function isMemoryDevice(st: Stats): boolean {
  if (!st.isCharacterDevice()) return false;
  const major = ((st.rdev / 0x100) & 0xfff) | (Math.floor(st.rdev / 2 ** 32) & ~0xfff);
  return major === 1;
}

/**
 * Standard output or error when it is a pipe, a socket (what a parent's `child_process` gives),
 * a file or /dev/null (`berth run -d … >/dev/null` in a script): each write a write(2) from this
 * thread, as Node's own stream does for these (synchronous on Linux), without making the stream:
 * for a pipe or socket that is `node:net` and a socket handle, ~2-3 ms of a command's CPU (`run
 * -d` printing its ID to a script); for a file or /dev/null, Node's SyncWriteStream module. A
 * terminal or anything else gets the stream. A write the fd refuses (a non-blocking pipe that is
 * full: EAGAIN; a reader gone: EPIPE; /dev/full: ENOSPC) hands that write's rest and every later
 * one to the stream, which queues or reports it as before.
 */
function directOut(fd: 1 | 2, stream: () => NodeJS.WriteStream): OutStream | undefined {
  try {
    const st = fstatSync(fd);
    if (!st.isFIFO() && !st.isFile() && !st.isSocket() && !isMemoryDevice(st)) return undefined;
  } catch {
    return undefined;
  }
  let fallback: NodeJS.WriteStream | undefined;
  const out: OutStream = {
    isTTY: false,
    write(chunk) {
      if (fallback) return fallback.write(chunk);
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let done = 0;
      try {
        while (done < bytes.length) done += writeSync(fd, bytes, done);
        return true;
      } catch {
        fallback = stream();
        return fallback.write(bytes.subarray(done));
      }
    },
  };
  fdOf.set(out, fd);
  return out;
}

/** The real process's streams and environment. */
export function processIO(): CliIO {
  let stdout: OutStream | undefined;
  let stderr: OutStream | undefined;
  // the streams are made only when no direct writer serves (reading process.stdout makes one)
  const stream = (s: NodeJS.WriteStream): NodeJS.WriteStream => {
    opened.add(s);
    return s;
  };
  return {
    // getters: a writer is made on first use (`berth images` never touches stderr)
    get stdout() {
      stdout ??= directOut(1, () => stream(process.stdout)) ?? stream(process.stdout);
      return stdout;
    },
    get stderr() {
      stderr ??= directOut(2, () => stream(process.stderr)) ?? stream(process.stderr);
      return stderr;
    },
    env: process.env,
    // a getter: process.stdin is opened only by a command that reads it
    get stdin() {
      return process.stdin;
    },
  };
}
