import { PassThrough } from 'node:stream';
import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import type { InStream } from '../io.js';
import { checkTty, rawMode, windowSize } from './terminal.js';

/** A stand-in terminal input that records its raw-mode switches. */
function fakeTty(isTTY: boolean): InStream & { modes: boolean[] } {
  const s = new PassThrough() as unknown as InStream & { modes: boolean[] };
  s.modes = [];
  s.isTTY = isTTY;
  s.setRawMode = (m: boolean) => s.modes.push(m);
  return s;
}

describe('checkTty (docker CheckTty)', () => {
  it('refuses -t with -i from input that is not a terminal, with docker text', () => {
    let err: unknown;
    try {
      checkTty(fakeTty(false), true, true);
    } catch (e) {
      err = e;
    }
    expect(isBerthError(err, 'INPUT_NOT_A_TTY')).toBe(true);
    expect((err as Error).message).toBe('the input device is not a TTY');
  });
  it('accepts -t alone, -i alone, and -it from a terminal', () => {
    expect(() => checkTty(fakeTty(false), false, true)).not.toThrow();
    expect(() => checkTty(fakeTty(false), true, false)).not.toThrow();
    expect(() => checkTty(fakeTty(true), true, true)).not.toThrow();
  });
});

describe('rawMode', () => {
  it('switches a terminal to raw and back once, and leaves a pipe alone', () => {
    const t = fakeTty(true);
    const before = process.listenerCount('SIGTERM');
    const restore = rawMode(t);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    restore();
    restore();
    expect(t.modes).toEqual([true, false]);
    expect(process.listenerCount('SIGTERM')).toBe(before);
    const p = fakeTty(false);
    rawMode(p)();
    expect(p.modes).toEqual([]);
  });
});

describe('windowSize', () => {
  it('reads rows and columns of a terminal only', () => {
    expect(windowSize({ isTTY: true, rows: 30, columns: 100 })).toEqual({ rows: 30, cols: 100 });
    expect(windowSize({ isTTY: false, rows: 30, columns: 100 })).toBeUndefined();
    expect(windowSize({ isTTY: true })).toBeUndefined();
  });
});
