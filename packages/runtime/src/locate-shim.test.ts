import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateShim } from './locate-shim.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fakeShim(sub: string, mode = 0o755): string {
  mkdirSync(join(dir, sub), { recursive: true });
  const p = join(dir, sub, 'berth-shim');
  writeFileSync(p, '#!/bin/sh\n');
  chmodSync(p, mode);
  return p;
}

describe('locateShim', () => {
  it('prefers the explicit path', async () => {
    const p = fakeShim('explicit');
    fakeShim('onpath');
    expect(await locateShim({ shim: p, searchPath: join(dir, 'onpath'), skipBundled: true })).toBe(p);
  });
  it('falls back to PATH, skipping directories without an executable shim', async () => {
    fakeShim('noexec', 0o644);
    const p = fakeShim('onpath');
    const searchPath = [join(dir, 'missing'), join(dir, 'noexec'), 'relative', join(dir, 'onpath')].join(':');
    expect(await locateShim({ searchPath, skipBundled: true })).toBe(p);
  });
  it('throws SHIM_NOT_FOUND listing every path tried and why', async () => {
    fakeShim('noexec', 0o644);
    const err = await locateShim({
      shim: join(dir, 'nope'),
      searchPath: join(dir, 'noexec'),
      skipBundled: true,
    }).catch((e: unknown) => e);
    expect(isBerthError(err, 'SHIM_NOT_FOUND')).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain(`${join(dir, 'nope')} (ENOENT)`);
    expect(msg).toContain(`${join(dir, 'noexec', 'berth-shim')} (EACCES)`);
  });
});
