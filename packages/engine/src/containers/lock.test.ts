import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockFile } from './lock.js';

const run = promisify(execFile);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Whether another process can take the lock right now (flock -n). */
async function freeForOthers(path: string): Promise<boolean> {
  return run('flock', ['-x', '-n', path, 'true']).then(
    () => true,
    () => false,
  );
}

describe('lockFile', () => {
  it('holds flock(2) for this process after the helper exits, until release', async () => {
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

  it('rejects with ENOENT when the directory is gone, and honours abort while waiting', async () => {
    await expect(lockFile(join(dir, 'missing', 'lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    const path = join(dir, 'lock');
    // another process holds it
    const holder = spawn('flock', ['-x', '-o', path, 'sleep', '30'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && (await freeForOthers(path)); i++)
        await new Promise((r) => setTimeout(r, 20));
      const ac = new AbortController();
      const p = lockFile(path, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('stop')), 100);
      await expect(p).rejects.toThrow('stop');
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
