import { describe, expect, it } from 'vitest';
import { isoTime, isoTimeNano } from './time.js';

const DAY = 86_400_000;
const MAX = 8.64e15;
/** Date.UTC for any year (Date.UTC reads 0-99 as 1900-1999). */
const utc = (y: number, m: number, d: number) => new Date(0).setUTCFullYear(y, m, d);

describe('isoTime', () => {
  const cases: Array<[string, number]> = [
    ['the epoch', 0],
    ['a millisecond before the epoch', -1],
    ['one millisecond (padding)', 1],
    ['ten milliseconds (padding)', 10],
    ['999 milliseconds', 999],
    ['the end of 1970', Date.UTC(1970, 11, 31, 23, 59, 59, 999)],
    ['a leap day (2024)', Date.UTC(2024, 1, 29, 12, 0, 0, 5)],
    ['the day after a leap day', Date.UTC(2024, 2, 1)],
    ['a leap day of a year divisible by 400 (2000)', Date.UTC(2000, 1, 29, 23, 59, 59, 999)],
    ['1 March 1900 (no leap day)', Date.UTC(1900, 2, 1)],
    ['28 February 2100 (no leap day) + 1 day', Date.UTC(2100, 1, 28) + DAY],
    ['31 December of a leap year (day 366)', Date.UTC(2028, 11, 31, 1, 2, 3, 4)],
    ['year 1', utc(1, 0, 1)],
    ['year 0, the last millisecond', utc(1, 0, 1) - 1],
    ['9999-12-31T23:59:59.999', Date.UTC(9999, 11, 31, 23, 59, 59, 999)],
    ['year 10000 (expanded)', Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1],
    ['year -1 (expanded, negative)', utc(0, 0, 1) - 1],
    ['the largest time', MAX],
    ['the smallest time', -MAX],
  ];
  for (const [name, ms] of cases) {
    it(`is toISOString's text: ${name}`, () => {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    });
  }

  it("is toISOString's text for 20 000 times spread over ±300 000 years", () => {
    let x = 0x2545f491;
    for (let i = 0; i < 20_000; i++) {
      // xorshift: the same spread on every run
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const ms = Math.trunc(((x >>> 0) / 2 ** 32 - 0.5) * 2 * MAX * (i % 2 ? 1 : 1e-4));
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('throws RangeError, as toISOString does, for a time that is no date', () => {
    for (const ms of [Number.NaN, MAX + 1, -MAX - 1, Number.POSITIVE_INFINITY]) {
      expect(() => new Date(ms).toISOString()).toThrow(RangeError);
      expect(() => isoTime(ms)).toThrow(RangeError);
    }
  });
});

describe('isoTimeNano', () => {
  it('gives nine fraction digits: the milliseconds, then six zeros', () => {
    expect(isoTimeNano(0)).toBe('1970-01-01T00:00:00.000000000Z');
    expect(isoTimeNano(Date.UTC(2024, 1, 29, 7, 8, 9, 42))).toBe('2024-02-29T07:08:09.042000000Z');
    const now = Date.now();
    expect(isoTimeNano(now)).toBe(new Date(now).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z'));
  });
});
