import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mount, unmount, unmountAsync } from './mount.js';

let dir: string;
const mounted: string[] = [];

/** The mountinfo line of a mount point, split into fields. */
function mountInfo(target: string): string[] | undefined {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .findLast((f) => f[4] === target);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), `berth-sys-m${process.pid}-`));
});
afterEach(() => {
  for (const m of mounted.splice(0).reverse()) execFileSync('umount', ['-l', m], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
});

describe('mount and unmount (root, real kernel)', () => {
  it('mounts an overlay from option words and unmounts it', () => {
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'lower', 'a'), 'from lower');
    const merged = join(dir, 'merged');
    mount('overlay', merged, 'overlay', [
      `lowerdir=${join(dir, 'lower')}`,
      `upperdir=${join(dir, 'upper')}`,
      `workdir=${join(dir, 'work')}`,
      'nodev',
    ]);
    mounted.push(merged);
    const info = mountInfo(merged)!;
    expect(info[5]).toContain('nodev');
    expect(readFileSync(join(merged, 'a'), 'utf8')).toBe('from lower');
    writeFileSync(join(merged, 'b'), 'new');
    expect(readFileSync(join(dir, 'upper', 'b'), 'utf8')).toBe('new');
    unmount(merged);
    mounted.pop();
    expect(mountInfo(merged)).toBeUndefined();
  });

  it('binds read-only with a remount, as mount(8) does for rbind,ro', () => {
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    mkdirSync(src);
    mkdirSync(dst);
    writeFileSync(join(src, 'f'), 'x');
    mount(src, dst, 'bind', ['rbind', 'ro']);
    mounted.push(dst);
    expect(mountInfo(dst)![5]!.split(',')).toContain('ro');
    expect(() => writeFileSync(join(dst, 'g'), 'y')).toThrow(/EROFS/);
    unmount(dst, { lazy: true });
    mounted.pop();
    expect(mountInfo(dst)).toBeUndefined();
  });

  it('unmounts on the thread pool, with the same errors', async () => {
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    mkdirSync(src);
    mkdirSync(dst);
    mount(src, dst, 'bind', ['rbind']);
    mounted.push(dst);
    await unmountAsync(dst);
    mounted.pop();
    expect(mountInfo(dst)).toBeUndefined();
    await expect(unmountAsync(dst)).rejects.toMatchObject({
      code: 'MOUNT_FAILED',
      message: expect.stringContaining(`umount ${dst}: EINVAL`),
      cause: expect.objectContaining({ code: 'EINVAL' }),
    });
  });

  it('fails with MOUNT_FAILED naming the target and the errno', () => {
    const nowhere = join(dir, 'missing');
    expect(() => mount('overlay', nowhere, 'overlay', ['lowerdir=/nonexistent'])).toThrow(
      expect.objectContaining({
        code: 'MOUNT_FAILED',
        message: `mount ${nowhere}: ENOENT: no such file or directory`,
      }),
    );
    // nothing mounted there: EINVAL, also as the cause's code (the engine's unmount loop ends on it)
    expect(() => unmount(dir)).toThrow(
      expect.objectContaining({
        code: 'MOUNT_FAILED',
        message: expect.stringContaining(`umount ${dir}: EINVAL`),
        cause: expect.objectContaining({ code: 'EINVAL', syscall: `umount ${dir}` }),
      }),
    );
  });
});
