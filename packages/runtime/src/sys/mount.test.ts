import { describe, expect, it } from 'vitest';
import { mountOptions } from './mount.js';

describe('mountOptions', () => {
  it('splits mount(8) words into flags and filesystem data, later words winning, as mount(8)', () => {
    expect(
      mountOptions(['ro', 'nosuid', 'lowerdir=/a:/b', 'upperdir=/u', 'workdir=/w', 'index=off']),
    ).toEqual({
      flags: 1 | 2,
      data: 'lowerdir=/a:/b,upperdir=/u,workdir=/w,index=off',
      bind: false,
      propagation: 0,
    });
    expect(mountOptions(['ro', 'rw', 'noexec', 'exec', 'nodev'])).toEqual({
      flags: 4,
      data: null,
      bind: false,
      propagation: 0,
    });
  });
  it('recognises bind, rbind (MS_REC) and propagation words', () => {
    expect(mountOptions(['rbind', 'ro', 'rprivate'])).toEqual({
      flags: 16384 | 1,
      data: null,
      bind: true,
      propagation: (1 << 18) | 16384,
    });
    expect(mountOptions(['bind']).flags).toBe(0);
    expect(mountOptions(['mode=755', 'size=65536k', 'strictatime']).data).toBe('mode=755,size=65536k');
  });
});
