import { describe, expect, it } from 'vitest';
import { BerthError, InternalError, isBerthError } from './errors.js';

describe('BerthError', () => {
  it('carries code, message, input and cause', () => {
    const cause = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const err = new BerthError('IMAGE_NOT_FOUND', 'image "busybox": not found', {
      input: { ref: 'busybox' },
      cause,
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('IMAGE_NOT_FOUND');
    expect(err.message).toBe('image "busybox": not found');
    expect(err.input).toEqual({ ref: 'busybox' });
    expect(err.cause).toBe(cause);
    expect((err.cause as { code: string }).code).toBe('ENOENT');
    expect(err.name).toBe('BerthError');
  });

  it('omits input and cause when not given', () => {
    const err = new BerthError('X', 'x: broken');
    expect('input' in err).toBe(false);
    expect('cause' in err).toBe(false);
  });
});

describe('isBerthError', () => {
  it('matches by class and by code', () => {
    const err = new BerthError('DIGEST_MISMATCH', 'blob: digest mismatch');
    expect(isBerthError(err)).toBe(true);
    expect(isBerthError(err, 'DIGEST_MISMATCH')).toBe(true);
    expect(isBerthError(err, 'SIZE_MISMATCH')).toBe(false);
  });

  it('rejects plain errors and non-errors', () => {
    expect(isBerthError(new Error('x'))).toBe(false);
    expect(isBerthError({ code: 'DIGEST_MISMATCH' }, 'DIGEST_MISMATCH')).toBe(false);
    expect(isBerthError(null)).toBe(false);
    expect(isBerthError('DIGEST_MISMATCH')).toBe(false);
  });

  it('recognises errors from another copy of the package by brand', () => {
    const foreign = Object.create(Error.prototype) as Record<string | symbol, unknown>;
    foreign.code = 'X';
    Object.defineProperty(foreign, Symbol.for('berth.error.v1'), { value: true });
    expect(isBerthError(foreign, 'X')).toBe(true);
  });
});

describe('InternalError', () => {
  it('is a BerthError with code INTERNAL', () => {
    const err = new InternalError('chain id: empty layer list', { cause: new Error('c') });
    expect(isBerthError(err, 'INTERNAL')).toBe(true);
    expect(err.name).toBe('InternalError');
    expect(err).toBeInstanceOf(BerthError);
  });
});
