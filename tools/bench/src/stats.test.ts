import { describe, expect, it } from 'vitest';
import { formatResult } from './harness.js';
import { ratio, summarize } from './stats.js';

describe('summarize', () => {
  it('takes min, median and max of an odd count', () => {
    expect(summarize([30, 10, 20])).toEqual({ runs: 3, min: 10, median: 20, max: 30 });
  });
  it('averages the two middle samples of an even count', () => {
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });
  it('refuses an empty list', () => {
    expect(() => summarize([])).toThrow(/no samples/);
  });
});

describe('formatResult', () => {
  it('prints each engine and the berth/docker ratio, and says why podman is absent', () => {
    const berth = summarize([100, 120, 110]);
    const docker = summarize([400, 440, 420]);
    const out = formatResult({
      scenario: 'cli-noop',
      engines: { berth, docker },
      absent: { podman: 'podman is not installed' },
      target: 'none',
    });
    expect(out).toContain('berth/docker median ratio: 0.26');
    expect(out).toContain('berth/podman: not measured (podman is not installed)');
    expect(ratio(berth, docker)).toBeCloseTo(110 / 420);
  });
});
