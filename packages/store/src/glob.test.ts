import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { compileGlob } from './glob.js';

describe('compileGlob (Go path.Match)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['busybox', 'busybox', true],
    ['busy*', 'busybox', true],
    ['busy*', 'busybox:latest', true],
    ['*', 'library/busybox', false],
    ['*/*', 'library/busybox', true],
    ['busybox:1.?', 'busybox:1.3', true],
    ['busybox:1.?', 'busybox:1.36', false],
    ['[a-c]*', 'busybox', true],
    ['[^a-c]*', 'busybox', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['x.y', 'xzy', false],
    ['localhost:5000/*', 'localhost:5000/app:1', true],
    // `-` and `_` outside a class are plain characters (a `u` RegExp refuses `\-` there)
    ['berth-bench/img:1*', 'berth-bench/img:12', true],
    ['berth-bench/img', 'berth-bench/img', true],
    ['my_app-x', 'my_app-x', true],
    ['a\\-b', 'a-b', true],
    ['[a\\-c]', 'b', false],
    ['[a\\-c]', '-', true],
    ['[\\]]', ']', true],
    ['[\\^]', '^', true],
  ];
  for (const [pattern, input, want] of cases) {
    it(`${pattern} vs ${input} → ${want}`, () => {
      expect(compileGlob(pattern).test(input)).toBe(want);
    });
  }
  it('refuses malformed patterns with INVALID_FILTER', () => {
    for (const p of ['[abc', 'a\\', '[z-a]', '[]']) {
      expect(() => compileGlob(p), p).toThrow(expect.objectContaining({ code: 'INVALID_FILTER' }));
      try {
        compileGlob(p);
      } catch (err) {
        expect(isBerthError(err, 'INVALID_FILTER')).toBe(true);
      }
    }
  });
});
