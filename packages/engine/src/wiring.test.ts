// The engine passes @berth/sys's flock(2) locker to the store it opens (DESIGN.md: the engine
// wires everything; the store alone defaults to a pure-JS lock directory). Seen from outside: a
// flock(1) holder of the store's lock files makes the engine's store changes wait for it.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

/** A flock(1) process holding `path` until killed; resolves once it holds it. */
async function flockHolder(path: string) {
  const child = spawn('flock', ['-x', '-o', path, 'sleep', '30'], { stdio: 'ignore' });
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

describe('the engine wires @berth/sys into the store', () => {
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
