import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileLockerSuite } from '@berth/oci/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flockLocker, lockDir, lockFile, lockFileShared, withLock } from './lock.js';

const run = promisify(execFile);
let dir: string;

fileLockerSuite('flock(2) (flockLocker)', async () => {
  const d = await mkdtemp(join(tmpdir(), `berth-sys-suite-t${process.pid}-`));
  return { locker: flockLocker, dir: d, cleanup: () => rm(d, { recursive: true, force: true }) };
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `berth-sys-t${process.pid}-`));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Whether another process can take the lock right now (flock(1) -n). */
async function freeForOthers(path: string): Promise<boolean> {
  return run('flock', ['-x', '-n', path, 'true']).then(
    () => true,
    () => false,
  );
}

/** Another process holding the lock until killed; resolves once it holds it. */
async function holder(path: string) {
  const child = spawn('flock', ['-x', '-o', path, 'sleep', '30'], { stdio: 'ignore' });
  for (let i = 0; i < 250 && (await freeForOthers(path)); i++) await new Promise((r) => setTimeout(r, 20));
  return child;
}

describe('lockDir', () => {
  it('flocks the directory itself, creates nothing in it, and waits for another holder', async () => {
    const d = join(dir, 'obj');
    await mkdir(d);
    const l = await lockDir(d);
    // flock(1) on the same directory is the other process's view
    expect(await freeForOthers(d)).toBe(false);
    expect(await readdir(d)).toEqual([]);
    await l.release();
    expect(await freeForOthers(d)).toBe(true);
    const other = await holder(d);
    let got = false;
    const p = lockDir(d).then((held) => {
      got = true;
      return held;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(got).toBe(false);
    other.kill('SIGKILL');
    await (await p).release();
    expect(got).toBe(true);
  });

  it('releases a directory removed while held, and the next holder of a new one gets it', async () => {
    const d = join(dir, 'removed');
    await mkdir(d);
    await writeFile(join(d, 'f'), 'x');
    const l = await lockDir(d);
    // what a container's removal does under its lock; a second lockDir of the path, queued in
    // this process behind the first, finds the directory gone
    await rm(d, { recursive: true });
    const queued = lockDir(d).catch((err: unknown) => err);
    // its last close (on the thread pool: the directory is gone) lets the queue go on
    await l.release();
    await l.release();
    expect(await queued).toMatchObject({ code: 'ENOENT' });
    await mkdir(d);
    const held = await lockDir(d);
    expect(await freeForOthers(d)).toBe(false);
    await held.release();
    expect(await freeForOthers(d)).toBe(true);
  });

  it('fails on a missing directory or a file, creating neither', async () => {
    await expect(lockDir(join(dir, 'gone'))).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(join(dir, 'file'), '');
    await expect(lockDir(join(dir, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect((await readdir(dir)).sort()).toEqual(['file']);
  });
});

describe('lockFile', () => {
  it('holds flock(2) for this process until release', async () => {
    const path = join(dir, 'lock');
    const l = await lockFile(path);
    expect(await freeForOthers(path)).toBe(false);
    await l.release();
    expect(await freeForOthers(path)).toBe(true);
    await l.release(); // idempotent
  });

  it('queues contenders inside one process', async () => {
    const path = join(dir, 'lock');
    const order: string[] = [];
    const a = await lockFile(path);
    const b = lockFile(path).then((l) => {
      order.push('b');
      return l;
    });
    await new Promise((r) => setTimeout(r, 50));
    order.push('a releases');
    await a.release();
    await (await b).release();
    expect(order).toEqual(['a releases', 'b']);
  });

  it('waits for another process and gets the lock when it lets go', async () => {
    const path = join(dir, 'lock');
    const other = await holder(path);
    let got = false;
    const p = lockFile(path).then((l) => {
      got = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(got).toBe(false);
    other.kill('SIGKILL');
    const l = await p;
    expect(await freeForOthers(path)).toBe(false);
    await l.release();
    expect(await freeForOthers(path)).toBe(true);
  });

  it('is dropped by the kernel when its holder is killed with SIGKILL (no stale lock)', async () => {
    const path = join(dir, 'lock');
    const script = `import { lockFile } from ${JSON.stringify(new URL('./lock.ts', import.meta.url).href)};
      await lockFile(${JSON.stringify(path)}); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '--conditions=@berth/source' },
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    expect(await freeForOthers(path)).toBe(false);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await withLock(path, async () => {
      expect(await freeForOthers(path)).toBe(false);
    });
  });

  it('rejects with ENOENT when the directory is gone, and honours abort while waiting', async () => {
    await expect(lockFile(join(dir, 'missing', 'lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    const path = join(dir, 'lock');
    const other = await holder(path);
    try {
      const ac = new AbortController();
      const p = lockFile(path, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('stop')), 100);
      await expect(p).rejects.toThrow('stop');
      // the abandoned wait takes nothing with it: once the holder goes, the lock is free
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
      for (let i = 0; i < 100 && !(await freeForOthers(path)); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(await freeForOthers(path)).toBe(true);
      await (await lockFile(path)).release();
    } finally {
      other.kill('SIGKILL');
    }
  });
});

describe('lockFileShared', () => {
  it('shares with other shared holders and excludes exclusive ones', async () => {
    const path = join(dir, 'lock');
    const a = await lockFileShared(path);
    const b = await lockFileShared(path);
    // another process gets a shared lock at once, not an exclusive one
    await run('flock', ['-s', '-n', path, 'true']);
    expect(await freeForOthers(path)).toBe(false);
    await a.release();
    expect(await freeForOthers(path)).toBe(false);
    await b.release();
    expect(await freeForOthers(path)).toBe(true);
  });
});
