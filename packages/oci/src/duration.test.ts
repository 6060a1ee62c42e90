import { describe, expect, it } from 'vitest';
import { humanDuration } from './duration.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;

describe('humanDuration (go-units HumanDuration)', () => {
  it.each([
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1500, '1 second'],
    [59_999, '59 seconds'],
    [90 * s, 'About a minute'],
    [59 * m, '59 minutes'],
    [89 * m, 'About an hour'],
    [3 * h, '3 hours'],
    [47 * h, '47 hours'],
    [72 * h, '3 days'],
    [15 * 24 * h, '2 weeks'],
    [70 * 24 * h, '2 months'],
    [800 * 24 * h, '2 years'],
  ])('humanDuration(%d) = %s', (ms, want) => expect(humanDuration(ms)).toBe(want));
});
