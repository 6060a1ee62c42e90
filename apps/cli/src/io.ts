/** A writable stream as the CLI uses it. */
export interface OutStream {
  /** Writes text. */
  write(chunk: string): unknown;
  /** Whether it is a terminal. */
  isTTY?: boolean;
  /** Terminal width, when it is one. */
  columns?: number;
}

/** The CLI's standard streams and environment; tests pass captured ones to `runCli`. */
export interface CliIO {
  /** Standard output. */
  stdout: OutStream;
  /** Standard error. */
  stderr: OutStream;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
}

/** The real process's streams and environment. */
export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
