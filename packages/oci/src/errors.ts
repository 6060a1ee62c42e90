/**
 * The one error class every berth package throws (STYLE.md, Errors). A stable UPPER_SNAKE
 * `code` says what went wrong, `input` names the thing that caused it, and `cause` keeps the
 * wrapped error (and its errno `code`) reachable.
 */

/** Where the bad input came from: a file position, a field path in a document, or a reference. */
export type ErrorInput =
  | { file: string; line: number; column?: number }
  | { field: string }
  | { ref: string };

/** Options for {@link BerthError}: the offending input and the wrapped cause. */
export interface BerthErrorOptions {
  /** The input that caused the error. */
  input?: ErrorInput;
  /** The underlying error, kept reachable (`err.cause`). */
  cause?: unknown;
}

/** Marks berth errors across duplicated copies of this package (source and dist, two versions). */
const brand = Symbol.for('berth.error.v1');

/**
 * An error with a stable machine-readable `code`. Messages put the subject first, are lowercase
 * and have no trailing period: `reference "Foo:bar": repository name must be lowercase`.
 *
 * @example
 * ```ts
 * throw new BerthError('INVALID_REFERENCE', 'reference "a:b:c": invalid reference format', { input: { ref: 'a:b:c' } });
 * ```
 */
export class BerthError<C extends string = string> extends Error {
  /** The stable error code, UPPER_SNAKE. */
  readonly code: C;
  /** The input that caused the error, when there is one. */
  declare readonly input?: ErrorInput;

  /**
   * @param code - stable UPPER_SNAKE code
   * @param message - subject first, lowercase, no trailing period, naming the input
   * @param options - the offending input and the wrapped cause
   */
  constructor(code: C, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.code = code;
    if (options.input !== undefined) this.input = options.input;
    Object.defineProperty(this, brand, { value: true });
  }
}

/**
 * Tells whether `err` is a {@link BerthError}, optionally with the given code. Works across
 * duplicated copies of `@berth/oci`. Test errors with this, never by matching messages.
 */
export function isBerthError<C extends string = string>(err: unknown, code?: C): err is BerthError<C> {
  if (typeof err !== 'object' || err === null) return false;
  if (!(err instanceof BerthError) && (err as Record<symbol, unknown>)[brand] !== true) return false;
  return code === undefined || (err as BerthError).code === code;
}

/** Codes of {@link InternalError}. */
export const InternalErrorCode = { INTERNAL: 'INTERNAL' } as const;
/** Union of {@link InternalErrorCode} values. */
export type InternalErrorCode = (typeof InternalErrorCode)[keyof typeof InternalErrorCode];

/**
 * A bug in berth, never caused by user input. The CLI prints "this is a bug in berth" for it.
 */
export class InternalError extends BerthError<'INTERNAL'> {
  /**
   * @param message - what invariant broke, subject first
   * @param options - the wrapped cause, if any
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('INTERNAL', message, options);
    this.name = 'InternalError';
  }
}
