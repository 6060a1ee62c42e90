import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syscallFsCalls as calls } from './fs.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), `berth-sys-fs${process.pid}-`));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The error a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
}

describe('syscallFsCalls (root, real kernel)', () => {
  it('makes an overlay whiteout, devices and a fifo with their numbers and modes', async () => {
    await calls.mknod(join(dir, 'wh'), 'c', 0, 0, 0);
    await calls.mknod(join(dir, 'null'), 'c', 0o666, 1, 3);
    await calls.mknod(join(dir, 'loop'), 'b', 0o600, 7, 200);
    await calls.mknod(join(dir, 'fifo'), 'p', 0o640, 0, 0);
    const wh = lstatSync(join(dir, 'wh'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(wh.mode & 0o7777).toBe(0);
    const nul = lstatSync(join(dir, 'null'));
    expect(nul.isCharacterDevice()).toBe(true);
    expect([Math.floor(nul.rdev / 256), nul.rdev % 256]).toEqual([1, 3]);
    const loop = lstatSync(join(dir, 'loop'));
    expect(loop.isBlockDevice()).toBe(true);
    expect([Math.floor(loop.rdev / 256), loop.rdev % 256]).toEqual([7, 200]);
    expect(loop.mode & 0o7777).toBe(0o600);
    const fifo = lstatSync(join(dir, 'fifo'));
    expect(fifo.isFIFO()).toBe(true);
    expect(fifo.mode & 0o7777).toBe(0o640 & ~process.umask());
  });

  it('never follows or replaces an existing name, and names the path in its errors', async () => {
    writeFileSync(join(dir, 'target'), 'kept');
    execFileSync('ln', ['-s', join(dir, 'target'), join(dir, 'link')]);
    for (const name of ['target', 'link']) {
      const err = await failure(calls.mknod(join(dir, name), 'c', 0, 0, 0));
      expect(isBerthError(err, 'FS_CALL_FAILED')).toBe(true);
      expect((err as Error).message).toBe(`mknod ${join(dir, name)}: EEXIST: file already exists`);
    }
    expect(lstatSync(join(dir, 'target')).isFile()).toBe(true);
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    const missing = join(dir, 'no/such/dir/x');
    const err = await failure(calls.mknod(missing, 'p', 0o600, 0, 0));
    expect((err as Error).message).toBe(`mknod ${missing}: ENOENT: no such file or directory`);
  });

  it('syncs the file system of a path, and fails naming a missing one', async () => {
    writeFileSync(join(dir, 'data'), 'x'.repeat(1 << 20));
    await expect(calls.syncfs(dir)).resolves.toBeUndefined();
    const err = await failure(calls.syncfs(join(dir, 'missing')));
    expect(isBerthError(err, 'FS_CALL_FAILED')).toBe(true);
    expect((err as Error).message).toBe(`syncfs ${join(dir, 'missing')}: ENOENT: no such file or directory`);
    const aborted = await failure(calls.syncfs(dir, { signal: AbortSignal.abort(new Error('stop')) }));
    expect((aborted as Error).message).toBe('stop');
  });

  it('marks a directory as an Orlov top directory where the file system has the flag', async () => {
    const top = join(dir, 'top');
    mkdirSync(top);
    // ext2/3/4 (this machine's /tmp) keeps FS_TOPDIR_FL; others (tmpfs) refuse it
    if (statfsSync(top).type === 0xef53) {
      await calls.setTopDir(top);
      expect(execFileSync('lsattr', ['-d', top], { encoding: 'utf8' }).split(' ')[0]).toContain('T');
    } else {
      const err = await failure(calls.setTopDir(top));
      expect(isBerthError(err, 'FS_CALL_FAILED')).toBe(true);
    }
    const shm = mkdtempSync('/dev/shm/berth-sys-fs-');
    try {
      const err = await failure(calls.setTopDir(shm));
      expect(isBerthError(err, 'FS_CALL_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(new RegExp(`^chattr \\+T ${shm}: E`));
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
    // a symlink is not followed
    execFileSync('ln', ['-s', top, join(dir, 'link')]);
    const err = await failure(calls.setTopDir(join(dir, 'link')));
    expect((err as Error).message).toMatch(/^chattr \+T .*\/link: ELOOP: /);
  });
});
