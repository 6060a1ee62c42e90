import { BerthError, isBerthError } from '@berth/oci';
import type { CliIO } from './io.js';

/**
 * The CLI's one table from error codes to exit codes (STYLE.md, Errors), and how errors are
 * printed. docker's conventions: 125 when the command itself fails, 126 when the container's
 * command cannot be invoked, 127 when it cannot be found, else the container's own status.
 */

/** Codes the CLI raises itself. */
export const CliErrorCode = {
  /** Wrong arguments, an unknown command or a bad flag value. */
  USAGE: 'USAGE',
} as const;
/** Union of {@link CliErrorCode} values. */
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/** A usage error; its message is printed as is, docker style (`"berth tag" requires exactly 2 arguments.`). */
export class UsageError extends BerthError<'USAGE'> {
  /** @param message - the full text to print */
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** Code → exit status. A code that is not here exits 125. */
export const EXIT_CODES: Readonly<Record<string, number>> = {
  USAGE: 125,
  FLAG_INVALID: 125,
  TEMPLATE_SYNTAX: 125,
  TEMPLATE_EXEC: 125,
  INTERNAL: 125,
  // Image commands (125: the command failed, berth's convention; docker's client exits 1 for
  // these, and prints `Error response from daemon: …` where berth prints `Error: …`).
  IMAGE_NOT_FOUND: 125,
  IMAGE_CONFLICT: 125,
  IMAGE_IN_USE: 125,
  IMAGE_AMBIGUOUS: 125,
  INVALID_FILTER: 125,
  ARCHIVE_INVALID: 125,
  ARCHIVE_DIGEST_MISMATCH: 125,
  LAYER_DIFF_ID_MISMATCH: 125,
  PLATFORM_NOT_FOUND: 125,
  UNAUTHORIZED: 125,
  MANIFEST_UNKNOWN: 125,
  // Container commands: berth's own failures are 125; the runtime's EXEC_* are docker's 126/127
  CONTAINER_NOT_FOUND: 125,
  CONTAINER_AMBIGUOUS: 125,
  CONTAINER_NAME_CONFLICT: 125,
  CONTAINER_RUNNING: 125,
  CONTAINER_NOT_RUNNING: 125,
  CONTAINER_REMOVING: 125,
  CONTAINER_PAUSED: 125,
  CONTAINER_NOT_PAUSED: 125,
  PS_FAILED: 125,
  /** `port CONTAINER 80`: nothing published there (docker's client exits 1). */
  PORT_NOT_PUBLISHED: 1,
  CONTAINER_LOCK_FAILED: 125,
  LOCK_FAILED: 125,
  MOUNT_FAILED: 125,
  CONTAINER_RECORD_INVALID: 125,
  NO_COMMAND: 125,
  LAUNCH_FAILED: 125,
  SHIM_NOT_FOUND: 125,
  /** `-it` from input that is not a terminal (docker's client error, exit 1). */
  INPUT_NOT_A_TTY: 1,
  /** The runtime could not exec the container's command: not executable (docker: 126). */
  EXEC_PERMISSION_DENIED: 126,
  /** The runtime did not find the container's command (docker: 127). */
  EXEC_NOT_FOUND: 127,
  /** The container's command exists but cannot be run (docker: 126). */
  CONTAINER_COMMAND_NOT_EXECUTABLE: 126,
  /** The container's command was not found (docker: 127). */
  CONTAINER_COMMAND_NOT_FOUND: 127,
};

/** Codes whose message is printed without the `Error: ` prefix, as docker prints them. */
const RAW_CODES = new Set(['USAGE', 'FLAG_INVALID', 'TEMPLATE_SYNTAX', 'TEMPLATE_EXEC', 'INPUT_NOT_A_TTY']);

/** The exit status for an error: the table's entry for its code, else 125. */
export function exitCodeFor(err: unknown): number {
  if (isBerthError(err)) return EXIT_CODES[err.code] ?? 125;
  return 125;
}

/** Options of {@link reportError}. */
export interface ReportErrorOptions {
  /** Where to print. */
  io: CliIO;
  /** berth's version, for the bug banner. */
  version: string;
  /** Print stacks (`--debug`). */
  debug: boolean;
}

/** Prints an error to stderr the way docker would and returns the exit status. */
export function reportError(err: unknown, options: ReportErrorOptions): number {
  const { io } = options;
  if (isBerthError(err) && err.code !== 'INTERNAL') {
    io.stderr.write(RAW_CODES.has(err.code) ? `${err.message}\n` : `Error: ${err.message}\n`);
    if (options.debug && err.stack) io.stderr.write(`${err.stack}\n`);
    return exitCodeFor(err);
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`this is a bug in berth ${options.version}, please report it: ${message}\n`);
  if (options.debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  return exitCodeFor(err);
}
