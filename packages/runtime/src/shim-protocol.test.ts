import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { parseExitRecord, parseShimMessage } from './shim-protocol.js';

describe('parseShimMessage', () => {
  it('parses every message of the closed set', () => {
    expect(parseShimMessage('created 12 11')).toEqual({ type: 'created', pid: 12, shimPid: 11 });
    expect(parseShimMessage('continue')).toEqual({ type: 'continue' });
    expect(parseShimMessage('abort')).toEqual({ type: 'abort' });
    expect(parseShimMessage('ready')).toEqual({ type: 'ready' });
    expect(parseShimMessage('ok')).toEqual({ type: 'ok' });
    expect(parseShimMessage('started 12')).toEqual({ type: 'started', pid: 12 });
    expect(parseShimMessage('exited 137 9')).toEqual({ type: 'exited', exitCode: 137, signal: 9 });
    expect(parseShimMessage('error exec 0 127 exec:%20"x":%20not%20found')).toEqual({
      type: 'error',
      step: 'exec',
      errno: 0,
      exitCode: 127,
      message: 'exec: "x": not found',
    });
  });
  for (const line of [
    '',
    'hello',
    'created 1',
    'started x',
    'ready now',
    'error exec 0 127',
    'exited 1 2 3',
  ]) {
    it(`refuses ${JSON.stringify(line)}`, () => {
      expect(() => parseShimMessage(line)).toThrow(expect.objectContaining({ code: 'SHIM_PROTOCOL' }));
    });
  }
});

describe('parseExitRecord', () => {
  it('reads an exit and a failed launch', () => {
    expect(
      parseExitRecord('berth.exit.v1\nexit_code=143\nsignal=15\nexited_at=2026-01-02T03:04:05.5Z\n'),
    ).toEqual({
      exitCode: 143,
      signal: 15,
      exitedAt: '2026-01-02T03:04:05.5Z',
    });
    expect(
      parseExitRecord(
        'berth.exit.v1\nexit_code=125\nsignal=0\nexited_at=x\nstep=mount\nerrno=2\nerror=bind%20`/a`\n',
      ),
    ).toMatchObject({ exitCode: 125, error: { step: 'mount', errno: 2, message: 'bind `/a`' } });
  });
  it('refuses another version or a missing field', () => {
    for (const text of [
      'berth.exit.v2\nexit_code=0\nsignal=0\n',
      'berth.exit.v1\nsignal=0\n',
      'berth.exit.v1\nexit_code=x\nsignal=0\n',
    ]) {
      let err: unknown;
      try {
        parseExitRecord(text, '/c/exit');
      } catch (e) {
        err = e;
      }
      expect(isBerthError(err, 'SHIM_PROTOCOL')).toBe(true);
    }
  });
});
