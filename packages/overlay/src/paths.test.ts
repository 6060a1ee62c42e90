import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { ancestors, cleanEntryPath, cleanLinkTarget, splitPath } from './paths.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isBerthError(err) ? err.code : 'not a BerthError';
  }
  return undefined;
};

describe('cleanEntryPath', () => {
  it.each([
    ['etc/passwd', 'etc/passwd'],
    ['./etc/passwd', 'etc/passwd'],
    ['etc//x/./y/', 'etc/x/y'],
    ['./', ''],
    ['.', ''],
  ])('cleans %j to %j', (name, want) => expect(cleanEntryPath(name)).toBe(want));

  it.each(['../x', 'a/../b', 'a/..', '/etc/passwd', 'a\0b', ''])('refuses %j', (name) =>
    expect(code(() => cleanEntryPath(name))).toBe('LAYER_INVALID_ENTRY'),
  );

  it('names the entry in the error', () => {
    try {
      cleanEntryPath('a/../../b');
    } catch (err) {
      expect(isBerthError(err) && err.input).toEqual({ field: 'a/../../b' });
    }
  });
});

describe('cleanLinkTarget', () => {
  it('keeps a target inside the layer', () =>
    expect(cleanLinkTarget('x', './bin/busybox')).toBe('bin/busybox'));
  it.each(['../etc/passwd', '/etc/passwd', 'a/../../b', '.'])('refuses %j as unsafe', (t) =>
    expect(code(() => cleanLinkTarget('x', t))).toBe('LAYER_UNSAFE_PATH'),
  );
  it('refuses NUL', () => expect(code(() => cleanLinkTarget('x', 'a\0'))).toBe('LAYER_INVALID_ENTRY'));
});

describe('path helpers', () => {
  it('splits and lists ancestors', () => {
    expect(splitPath('a/b/c')).toEqual({ parent: 'a/b', base: 'c' });
    expect(splitPath('c')).toEqual({ parent: '', base: 'c' });
    expect(ancestors('a/b/c')).toEqual(['a', 'a/b']);
    expect(ancestors('a')).toEqual([]);
  });
});
