// The engine passes @berth/runtime's flock(2) locker to the store and the snapshotter it opens
// (DESIGN.md: the engine wires everything; the packages alone default to a pure-JS lock
// directory). Seen from outside: a flock(1) holder of their lock files makes them wait.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSnapshotter } from '@berth/overlay';
import { flockLocker } from '@berth/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from './engine.js';

const run = promisify(execFile);
let root: string;
let engine: Engine;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), `berth-wiring-t${process.pid}-`));
  engine = await createEngine({ root, runRoot: join(root, 'run') });
});
afterEach(async () => {
  await engine.close();
  await rm(root, { recursive: true, force: true });
});

const takenByOthers = (path: string): Promise<boolean> =>
  run('flock', ['-x', '-n', path, 'true']).then(
    () => false,
    () => true,
  );

/** A flock(1) process holding `path` (`-x` or `-s`) until killed; resolves once it holds it. */
async function flockHolder(path: string, mode = '-x') {
  const child = spawn('flock', [mode, '-o', path, 'sleep', '30'], { stdio: 'ignore' });
  for (let i = 0; i < 250 && !(await takenByOthers(path)); i++) await new Promise((r) => setTimeout(r, 20));
  return child;
}

/** Whether `p` is still pending after `ms`. */
async function pendingAfter(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((r) => setTimeout(r, ms));
  return !settled;
}

describe("the engine wires @berth/runtime's flock(2) into the store", () => {
  it("image prune waits for a flock(1) holder of the image store's lock", { timeout: 30_000 }, async () => {
    await engine.images.prune(); // loads what prune needs, takes the lock once
    const lock = join(root, 'images', 'lock');
    expect((await stat(lock)).isFile()).toBe(true); // flock(2)'s file, not a lock directory
    await expect(stat(`${lock}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
    const holder = await flockHolder(lock);
    let killedAt = 0;
    try {
      const prune = engine.images.prune().then(() => Date.now());
      expect(await pendingAfter(prune, 1000)).toBe(true);
      killedAt = Date.now();
      holder.kill('SIGKILL');
      expect(await prune).toBeGreaterThanOrEqual(killedAt);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe("the snapshotter with the engine's flock(2) locker", () => {
  it('creates and removes active snapshots while another process holds the shared lock', async () => {
    const sn = createSnapshotter({ root: `${root}/snap`, locker: flockLocker });
    await sn.prepare('base-key');
    await sn.commit('base', 'base-key');
    await mkdir(`${root}/snap/records`, { recursive: true });
    // another berth in the middle of a container create (shared lock): creates and removes of
    // other containers go on; a commit (exclusive) waits for it
    const lock = `${root}/snap/metadata.flock`;
    expect((await stat(lock)).isFile()).toBe(true);
    const other = await flockHolder(lock, '-s');
    try {
      await Promise.all(Array.from({ length: 10 }, (_, i) => sn.prepare(`c${i}`, 'base')));
      await sn.remove('c0');
      expect((await sn.walk()).map((s) => s.name)).toEqual([
        'base',
        ...Array.from({ length: 9 }, (_, i) => `c${i + 1}`),
      ]);
      expect(await readdir(`${root}/snap/records`)).toHaveLength(9);
      const commit = sn.commit('c1-img', 'c1').then(() => Date.now());
      expect(await pendingAfter(commit, 300)).toBe(true);
      const killedAt = Date.now();
      other.kill('SIGKILL');
      expect(await commit).toBeGreaterThanOrEqual(killedAt);
    } finally {
      other.kill('SIGKILL');
    }
    expect((await sn.stat('c1-img')).kind).toBe('committed');
    expect(await readdir(`${root}/snap/records`)).toHaveLength(8);
  });
});
