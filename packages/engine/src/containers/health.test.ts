import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { applyProbe, initialHealth, mergeHealthcheck, probeArgs } from './health.js';

const probe = (code: number, out = '') => ({ Start: 's', End: 'e', ExitCode: code, Output: out });

describe('mergeHealthcheck', () => {
  const image = { Test: ['CMD', 'true'], Interval: 5e9, Retries: 2 };
  it('keeps the image check without flags, overrides field by field with them', () => {
    expect(mergeHealthcheck(image)).toEqual(image);
    expect(mergeHealthcheck(image, { cmd: 'test -f /ok', interval: 1e9 })).toEqual({
      Test: ['CMD-SHELL', 'test -f /ok'],
      Interval: 1e9,
      Retries: 2,
    });
    expect(mergeHealthcheck(undefined)).toBeUndefined();
  });
  it('--no-healthcheck disables, and conflicts with --health-*', () => {
    expect(mergeHealthcheck(image, { none: true })).toEqual({ Test: ['NONE'] });
    try {
      mergeHealthcheck(image, { none: true, retries: 1 });
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'INVALID_OPTION')).toBe(true);
    }
  });
  it('rejects a negative duration', () => {
    expect(() => mergeHealthcheck(undefined, { interval: -1 })).toThrow(/cannot be negative/);
  });
});

describe('probeArgs', () => {
  it('CMD, CMD-SHELL, NONE', () => {
    expect(probeArgs({ Test: ['CMD', 'cat', '/ok'] })).toEqual(['cat', '/ok']);
    expect(probeArgs({ Test: ['CMD-SHELL', 'test -f /ok'] })).toEqual(['/bin/sh', '-c', 'test -f /ok']);
    expect(probeArgs({ Test: ['NONE'] })).toBeUndefined();
    expect(probeArgs({})).toBeUndefined();
  });
});

describe('applyProbe (docker handleProbeResult)', () => {
  it('turns unhealthy after `retries` failures and healthy on a pass', () => {
    let h = initialHealth();
    h = applyProbe(h, probe(1), { retries: 2, inStartPeriod: false });
    expect(h).toMatchObject({ Status: 'starting', FailingStreak: 1 });
    h = applyProbe(h, probe(1), { retries: 2, inStartPeriod: false });
    expect(h).toMatchObject({ Status: 'unhealthy', FailingStreak: 2 });
    h = applyProbe(h, probe(0), { retries: 2, inStartPeriod: false });
    expect(h).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
  });
  it('does not count failures in the start period, and keeps the last five probes', () => {
    let h = initialHealth();
    for (let i = 0; i < 7; i++) h = applyProbe(h, probe(1, `run ${i}`), { retries: 1, inStartPeriod: true });
    expect(h.Status).toBe('starting');
    expect(h.FailingStreak).toBe(0);
    expect(h.Log.map((l) => l.Output)).toEqual(['run 2', 'run 3', 'run 4', 'run 5', 'run 6']);
  });
});
