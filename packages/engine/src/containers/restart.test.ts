import { describe, expect, it } from 'vitest';
import { RESTART_DELAY_MAX_MS, restartDecision } from './restart.js';
import type { RestartPolicy } from './types.js';

const facts = { exitCode: 1, manuallyStopped: false, restartCount: 0, ranMs: 50, previousDelayMs: 0 };
const p = (Name: RestartPolicy['Name'], MaximumRetryCount = 0): RestartPolicy => ({
  Name,
  MaximumRetryCount,
});

describe('restartDecision (moby restartmanager)', () => {
  it('no never restarts', () => {
    expect(restartDecision(p('no'), facts).restart).toBe(false);
  });
  it('always and unless-stopped restart on any exit, not after a user stop', () => {
    for (const n of ['always', 'unless-stopped'] as const) {
      expect(restartDecision(p(n), { ...facts, exitCode: 0 }).restart).toBe(true);
      expect(restartDecision(p(n), { ...facts, manuallyStopped: true }).restart).toBe(false);
    }
  });
  it('on-failure:2 restarts twice on a failure, never on success', () => {
    expect(restartDecision(p('on-failure', 2), { ...facts, exitCode: 0 }).restart).toBe(false);
    expect(restartDecision(p('on-failure', 2), { ...facts, restartCount: 0 }).restart).toBe(true);
    expect(restartDecision(p('on-failure', 2), { ...facts, restartCount: 1 }).restart).toBe(true);
    expect(restartDecision(p('on-failure', 2), { ...facts, restartCount: 2 }).restart).toBe(false);
    expect(restartDecision(p('on-failure'), { ...facts, restartCount: 99 }).restart).toBe(true);
  });
  it('the delay doubles from 100 ms to a minute, and resets after a 10 s run', () => {
    const d1 = restartDecision(p('always'), facts).delayMs;
    const d2 = restartDecision(p('always'), { ...facts, previousDelayMs: d1 }).delayMs;
    const d3 = restartDecision(p('always'), { ...facts, previousDelayMs: d2 }).delayMs;
    expect([d1, d2, d3]).toEqual([100, 200, 400]);
    expect(restartDecision(p('always'), { ...facts, previousDelayMs: 40_000 }).delayMs).toBe(
      RESTART_DELAY_MAX_MS,
    );
    expect(restartDecision(p('always'), { ...facts, previousDelayMs: 6400, ranMs: 10_000 }).delayMs).toBe(
      100,
    );
  });
});
