import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError, removeTree } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syscallFsCalls as calls } from './fs.js';
import { mount, unmount } from './mount.js';

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
  it('removes a tree in one job, unlinking symlinks without following them; stops at a mount inside', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'kept');
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(tree, 'a', 'b', 'c', 'f'), 'x');
    writeFileSync(join(tree, 'top'), 'y');
    symlinkSync(outside, join(tree, 'a', 'to-outside'));
    symlinkSync(join(outside, 'keep'), join(tree, 'to-keep'));
    await calls.mknod(join(tree, 'a', 'fifo'), 'p', 0o600, 0, 0);
    expect(await calls.removeTree?.(tree)).toBe(true);
    expect(existsSync(tree)).toBe(false);
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('kept');
    // gone already: nothing to do
    expect(await calls.removeTree?.(tree)).toBe(true);
    // a file system mounted inside (a root left mounted) is not walked into
    const mounted = join(dir, 'm');
    mkdirSync(join(mounted, 'mnt'), { recursive: true });
    mount('tmpfs', join(mounted, 'mnt'), 'tmpfs');
    try {
      writeFileSync(join(mounted, 'mnt', 'inside'), 'z');
      expect(await calls.removeTree?.(mounted)).toBe(false);
      expect(readFileSync(join(mounted, 'mnt', 'inside'), 'utf8')).toBe('z');
    } finally {
      unmount(join(mounted, 'mnt'));
    }
    // what is left goes to fs.promises.rm through @berth/oci's removeTree
    await removeTree(mounted, 0, calls);
    expect(existsSync(mounted)).toBe(false);
    // `last` outlives whatever stops the walk, and goes last when nothing does
    const rec = join(dir, 'rec');
    mkdirSync(join(rec, 'mnt'), { recursive: true });
    writeFileSync(join(rec, 'config.v2.json'), '{}');
    writeFileSync(join(rec, 'hosts'), '');
    mount('tmpfs', join(rec, 'mnt'), 'tmpfs');
    try {
      expect(await calls.removeTree?.(rec, { last: 'config.v2.json' })).toBe(false);
      expect(readFileSync(join(rec, 'config.v2.json'), 'utf8')).toBe('{}');
    } finally {
      unmount(join(rec, 'mnt'));
    }
    expect(await calls.removeTree?.(rec, { last: 'config.v2.json' })).toBe(true);
    expect(existsSync(rec)).toBe(false);
  });
});
