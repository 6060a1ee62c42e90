import { describe, expect, it } from 'vitest';
import {
  bytesSize,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  humanTimeAgo,
  truncateId,
} from './units.js';

// Expected values are go-units' (HumanSize = "%.4g" over 1000, BytesSize over 1024).
describe('sizes', () => {
  it.each([
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [1024, '1.024kB'],
    [1234567, '1.235MB'],
    [1e9, '1GB'],
    [45_600_000, '45.6MB'],
    [2.5e15, '2.5PB'],
  ])('humanSize(%d) = %s', (n, want) => expect(humanSize(n)).toBe(want));

  it('rounds like Go %.3g for docker images', () => {
    expect(humanSizeWithPrecision(1_234_567, 3)).toBe('1.23MB');
    expect(humanSizeWithPrecision(4_260_000, 3)).toBe('4.26MB');
    expect(humanSizeWithPrecision(999_999, 3)).toBe('1e+03kB');
  });

  it.each([
    [1024, '1KiB'],
    [1_048_576, '1MiB'],
    [1_234_567, '1.177MiB'],
    [512, '512B'],
  ])('bytesSize(%d) = %s', (n, want) => expect(bytesSize(n)).toBe(want));
});

describe('durations', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  it.each([
    [500, 'Less than a second'],
    [s, '1 second'],
    [47 * s, '47 seconds'],
    [m, 'About a minute'],
    [90 * s, 'About a minute'],
    [59 * m, '59 minutes'],
    [h, 'About an hour'],
    [89 * m, 'About an hour'],
    [2 * h, '2 hours'],
    [47 * h, '47 hours'],
    [72 * h, '3 days'],
    [15 * 24 * h, '2 weeks'],
    [70 * 24 * h, '2 months'],
    [800 * 24 * h, '2 years'],
  ])('humanDuration(%d) = %s', (ms, want) => expect(humanDuration(ms)).toBe(want));

  it('adds "ago" relative to now', () => {
    const now = new Date('2025-01-01T12:00:00Z');
    expect(humanTimeAgo(new Date('2025-01-01T10:00:00Z'), now)).toBe('2 hours ago');
    expect(humanTimeAgo(new Date('2025-01-01T11:59:00Z'), now)).toBe('About a minute ago');
  });
});

describe('truncateId', () => {
  it('drops the algorithm and keeps 12 characters', () => {
    expect(truncateId('sha256:0123456789abcdef0123')).toBe('0123456789ab');
    expect(truncateId('abc')).toBe('abc');
  });
});
