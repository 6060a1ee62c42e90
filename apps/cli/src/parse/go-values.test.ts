import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoBool, parseGoDuration, parseGoInt } from './go-values.js';

describe('Go value parsers', () => {
  it('parses bools like strconv.ParseBool', () => {
    expect(['1', 't', 'TRUE', 'True'].map(parseGoBool)).toEqual([true, true, true, true]);
    expect(['0', 'f', 'false', 'FALSE'].map(parseGoBool)).toEqual([false, false, false, false]);
    expect(() => parseGoBool('yes')).toThrow('strconv.ParseBool: parsing "yes": invalid syntax');
  });

  it('parses integers with base prefixes like ParseInt(s, 0, 64)', () => {
    expect(['42', '-7', '0x1f', '0o17', '017', '0b101', '1_000'].map(parseGoInt)).toEqual([
      42, -7, 31, 15, 15, 5, 1000,
    ]);
    expect(() => parseGoInt('1.5')).toThrow('strconv.ParseInt: parsing "1.5": invalid syntax');
    expect(() => parseGoInt('99999999999999999999')).toThrow('value out of range');
  });

  it('parses durations like time.ParseDuration', () => {
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('300ms')).toBe(300);
    expect(parseGoDuration('-1.5s')).toBe(-1500);
    expect(parseGoDuration('0')).toBe(0);
    expect(() => parseGoDuration('x')).toThrow('time: invalid duration "x"');
    expect(() => parseGoDuration('5x')).toThrow('time: unknown unit "x" in duration "5x"');
  });

  it('prints durations like time.Duration.String', () => {
    expect([0, 500, 1500, 90_000, 3_600_000, 5_430_500].map(formatGoDuration)).toEqual([
      '0s',
      '500ms',
      '1.5s',
      '1m30s',
      '1h0m0s',
      '1h30m30.5s',
    ]);
  });
});
