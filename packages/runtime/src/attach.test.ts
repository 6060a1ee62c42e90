import { describe, expect, it } from 'vitest';
import { DetachFilter, FrameDecoder, parseDetachKeys } from './attach.js';

describe('parseDetachKeys', () => {
  it('reads docker syntax', () => {
    expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([16, 17]);
    expect([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')]).toEqual([
      0, 27, 28, 29, 30, 31,
    ]);
    expect([...parseDetachKeys('a,ctrl-a')]).toEqual([97, 1]);
    expect(parseDetachKeys('')).toHaveLength(0);
  });
  it('refuses unknown keys naming them', () => {
    expect(() => parseDetachKeys('ctrl-1')).toThrow(/unknown key "ctrl-1"/);
    expect(() => parseDetachKeys('meta-x')).toThrow(expect.objectContaining({ code: 'INVALID_DETACH_KEYS' }));
  });
});

describe('DetachFilter', () => {
  it('detects the sequence across chunks and forwards nothing of it', () => {
    const f = new DetachFilter(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(f.push(Buffer.from('ab\x10'))).toEqual({ forward: Buffer.from('ab'), detached: false });
    expect(f.push(Buffer.from('\x11zz'))).toEqual({ forward: Buffer.from(''), detached: true });
  });
  it('releases a broken partial match', () => {
    const f = new DetachFilter(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(f.push(Buffer.from('\x10x')).forward).toEqual(Buffer.from('\x10x'));
    expect(f.push(Buffer.from('\x10\x10\x11')).detached).toBe(true);
  });
  it('passes everything with no keys', () => {
    const f = new DetachFilter(parseDetachKeys(''));
    expect(f.push(Buffer.from('\x10\x11'))).toEqual({ forward: Buffer.from('\x10\x11'), detached: false });
  });
});

describe('FrameDecoder', () => {
  it('splits stdcopy frames across chunks', () => {
    const d = new FrameDecoder();
    const got: [number, string][] = [];
    const frame = (s: number, t: string) => {
      const h = Buffer.alloc(8);
      h[0] = s;
      h.writeUInt32BE(Buffer.byteLength(t), 4);
      return Buffer.concat([h, Buffer.from(t)]);
    };
    const all = Buffer.concat([frame(1, 'out'), frame(2, 'err'), frame(1, '')]);
    d.push(all.subarray(0, 5), (s, b) => got.push([s, b.toString()]));
    d.push(all.subarray(5, 14), (s, b) => got.push([s, b.toString()]));
    d.push(all.subarray(14), (s, b) => got.push([s, b.toString()]));
    expect(got).toEqual([
      [1, 'out'],
      [2, 'err'],
      [1, ''],
    ]);
  });
  it('refuses a bad header', () => {
    expect(() => new FrameDecoder().push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0]), () => {})).toThrow(
      /bad frame/,
    );
  });
});
