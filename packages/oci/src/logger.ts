/**
 * Structured logging contract (STYLE.md, Logging). Libraries never print: they accept
 * `logger?: Logger` and default to {@link silentLogger}.
 */

/** Structured fields attached to a log line, e.g. `{ digest, path, id }`. */
export type LogFields = Record<string, unknown>;

/** A structured logger, like containerd's `log.G(ctx).WithField(...)`. */
export interface Logger {
  /** Detail for debugging. */
  debug(msg: string, fields?: LogFields): void;
  /** Normal progress worth recording. */
  info(msg: string, fields?: LogFields): void;
  /** Something unexpected that was handled. */
  warn(msg: string, fields?: LogFields): void;
  /** A failure. */
  error(msg: string, fields?: LogFields): void;
}

const noop = (): void => {};

/** A {@link Logger} that drops everything; the default for every library. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
