/**
 * Timestamps as text, made from a date's UTC fields. `Date.prototype.toISOString` makes V8 11.3
 * (Node 20) set up ICU's local time zone on its first call (it reads /etc/localtime and builds
 * the zone's names: ~0.2 ms of CPU), although its text is UTC; a one-shot command such as
 * `berth run` writes a few timestamps and pays that once per process. `getUTC*` needs no zone.
 */

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * The text `new Date(ms).toISOString()` gives for a time in epoch milliseconds:
 * `2026-11-28T16:17:54.123Z` (RFC 3339, UTC, milliseconds), with ECMAScript's expanded years
 * (`+010000`, `-000001`) outside 0000-9999. Throws `RangeError` as toISOString does for a time
 * that is not a valid date (NaN, beyond ±8.64e15 ms).
 *
 * @example
 * ```ts
 * isoTime(0); // '1970-01-01T00:00:00.000Z'
 * ```
 */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  if (Number.isNaN(y)) throw new RangeError(`invalid time value: ${ms}`);
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : `${y < 0 ? '-' : '+'}${pad(Math.abs(y), 6)}`;
  return (
    `${year}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    `.${pad(d.getUTCMilliseconds(), 3)}Z`
  );
}

/**
 * {@link isoTime} with nine fraction digits, as berth's container records hold times (`Created`,
 * `State.StartedAt`: RFC 3339 with nanoseconds, docker's fields): `2026-11-28T16:17:54.123000000Z`.
 * A JavaScript clock has milliseconds, so the last six digits are zeros.
 */
export function isoTimeNano(ms: number): string {
  return `${isoTime(ms).slice(0, -1)}000000Z`;
}
