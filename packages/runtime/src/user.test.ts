import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { resolveUser } from './user.js';

const passwd =
  'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nbroken line\nweb:x:33:33::/var/www:/bin/false\n';
const group = 'root:x:0:\napp:x:1000:\nextra:x:2000:app,web\nstaff:x:50:web\n';

describe('resolveUser', () => {
  it('defaults to root with root home', () => {
    expect(resolveUser('', { passwd, group })).toEqual({
      uid: 0,
      gid: 0,
      additionalGids: [0],
      home: '/root',
    });
  });
  it('resolves a name with its primary group and the groups listing it', () => {
    expect(resolveUser('web', { passwd, group })).toEqual({
      uid: 33,
      gid: 33,
      additionalGids: [33, 2000, 50],
      home: '/var/www',
    });
  });
  it('resolves a uid found in passwd by number', () => {
    expect(resolveUser('1000', { passwd, group })).toMatchObject({
      uid: 1000,
      gid: 1000,
      home: '/home/app',
      additionalGids: [1000, 2000],
    });
  });
  it('takes an unknown numeric uid with gid 0 and home /', () => {
    expect(resolveUser('4242', { passwd, group })).toEqual({
      uid: 4242,
      gid: 0,
      additionalGids: [0],
      home: '/',
    });
  });
  it('an explicit group replaces the primary group and skips membership lookup', () => {
    expect(resolveUser('app:staff', { passwd, group })).toEqual({
      uid: 1000,
      gid: 50,
      additionalGids: [50],
      home: '/home/app',
    });
    expect(resolveUser('app:7', { passwd, group })).toMatchObject({ gid: 7, additionalGids: [7] });
  });
  it('adds --group-add by name or number', () => {
    expect(resolveUser('4242:4242', { passwd, group }, ['staff', '99'])).toMatchObject({
      additionalGids: [4242, 50, 99],
    });
  });
  it('works without files (scratch images)', () => {
    expect(resolveUser('1:2', {})).toEqual({ uid: 1, gid: 2, additionalGids: [2], home: '/' });
  });
  it('throws USER_NOT_FOUND and GROUP_NOT_FOUND for unknown names', () => {
    const cases: [() => unknown, string][] = [
      [() => resolveUser('nobody', { passwd, group }), 'USER_NOT_FOUND'],
      [() => resolveUser('app:nogroup', { passwd, group }), 'GROUP_NOT_FOUND'],
      [() => resolveUser('app', { passwd, group }, ['ghosts']), 'GROUP_NOT_FOUND'],
      [() => resolveUser('99999999999', { passwd, group }), 'USER_NOT_FOUND'],
    ];
    for (const [fn, code] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(isBerthError(err, code)).toBe(true);
    }
  });
});
