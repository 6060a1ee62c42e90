import { describe, expect, it } from 'vitest';
import { statusText, ZERO_TIME } from './status.js';
import type { ContainerStateInfo } from './types.js';
import {
  parseGoDuration,
  parseRamBytes,
  parseRestartPolicy,
  parseSignal,
  parseTimestamp,
  parseUlimit,
} from './units.js';

describe('container option parsers (docker semantics)', () => {
  it('parses RAM sizes as go-units RAMInBytes', () => {
    expect(parseRamBytes('512m')).toBe(512 * 1024 * 1024);
    expect(parseRamBytes('1g')).toBe(1024 ** 3);
    expect(parseRamBytes('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseRamBytes('100')).toBe(100);
    expect(() => parseRamBytes('12x', 'memory')).toThrow(/memory: invalid size/);
  });

  it('parses --ulimit', () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({ name: 'nofile', soft: 1024, hard: 2048 });
    expect(parseUlimit('nproc=10')).toEqual({ name: 'nproc', soft: 10, hard: 10 });
    expect(() => parseUlimit('bogus=1')).toThrow(/invalid ulimit type/);
    expect(() => parseUlimit('nofile=2:1')).toThrow(/soft limit/);
    expect(() => parseUlimit('nofile=a')).toThrow(/invalid ulimit argument/);
  });

  it('parses --restart', () => {
    expect(parseRestartPolicy(undefined)).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(parseRestartPolicy('on-failure:3')).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
    expect(parseRestartPolicy('always')).toEqual({ Name: 'always', MaximumRetryCount: 0 });
    expect(() => parseRestartPolicy('always:2')).toThrow(/maximum retry count cannot be used/);
    expect(() => parseRestartPolicy('sometimes')).toThrow(/invalid restart policy/);
  });

  it('parses signals by name, short name and number', () => {
    expect(parseSignal('SIGTERM')).toBe('SIGTERM');
    expect(parseSignal('hup')).toBe('SIGHUP');
    expect(parseSignal('9')).toBe(9);
    expect(() => parseSignal('NOPE')).toThrow(/invalid signal/);
    expect(() => parseSignal('99')).toThrow(/invalid signal/);
  });

  it('parses --since/--until values', () => {
    const now = Date.parse('2024-01-01T00:10:00Z');
    expect(parseTimestamp('1700000000.5', 'since')).toBe(1_700_000_000_500);
    expect(parseTimestamp('10m', 'since', now)).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(parseTimestamp('2024-01-01T00:00:00Z', 'since')).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(parseGoDuration('1h30m')).toBe(90 * 60_000);
    expect(parseGoDuration('abc')).toBeUndefined();
    expect(() => parseTimestamp('yesterday', 'since')).toThrow(/failed to parse/);
  });

  it('prints durations and states as docker does', () => {
    const base: ContainerStateInfo = {
      Status: 'exited',
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 0,
      ExitCode: 3,
      Error: '',
      StartedAt: '2024-01-01T00:00:00Z',
      FinishedAt: '2024-01-01T00:00:05Z',
    };
    const now = Date.parse('2024-01-01T00:00:10Z');
    expect(statusText(base, now)).toBe('Exited (3) 5 seconds ago');
    expect(statusText({ ...base, Status: 'running', Running: true }, now)).toBe('Up 10 seconds');
    expect(statusText({ ...base, Status: 'paused', Running: true, Paused: true }, now)).toBe(
      'Up 10 seconds (Paused)',
    );
    expect(statusText({ ...base, Status: 'created' }, now)).toBe('Created');
    expect(statusText({ ...base, FinishedAt: ZERO_TIME }, now)).toBe('');
  });
});
