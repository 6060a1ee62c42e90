/**
 * An error as it crosses between an apply worker thread and the thread that started it
 * (structured clone keeps neither a class nor its own fields): a `BerthError` comes back with
 * the same code, message and input.
 */
import { BerthError, type ErrorInput, isBerthError } from '@berth/oci';

/** An error in a message. */
export interface SentError {
  berth: boolean;
  name: string;
  message: string;
  code?: string;
  input?: ErrorInput;
}

/** What {@link rebuildError} turns back into an error. */
export function sendError(err: unknown): SentError {
  const e = err as Error & { code?: unknown; input?: ErrorInput };
  return {
    berth: isBerthError(err),
    name: e?.name ?? 'Error',
    message: e?.message ?? String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(e?.input === undefined ? {} : { input: e.input }),
  };
}

/** The error {@link sendError} described: a `BerthError` with its code and input, else an `Error` of its name. */
export function rebuildError(m: SentError): Error {
  if (m.berth && m.code !== undefined)
    return new BerthError(m.code, m.message, m.input === undefined ? {} : { input: m.input });
  const err = new Error(m.message);
  err.name = m.name;
  return err;
}
