// Crash safety (DESIGN.md, State on disk): a child process writes, tags, removes and collects in
// a loop and is killed with SIGKILL at random points, many times. After each kill the store
// must open and read without error, every visible blob must match its digest, every listed
// image must have all its blobs, and the writes must then complete (resuming partial ingests).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIndex } from '@berth/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from './store.js';
import { CRASH_IMAGES, writeCrashImage } from './test-image.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const ITERATIONS = 30;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/**
 * Starts the writer and resolves once it has opened the store and written `tags` images, or
 * (with `mid`) once it is halfway through writing a layer.
 */
function startWriter(root: string, start: number, tags: number, mid: boolean): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@berth/source',
        '--import',
        'tsx',
        join(pkg, 'testdata', 'crash-writer.ts'),
        root,
        String(start),
        mid ? 'mid' : 'run',
      ],
      { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let seen = -1;
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      for (const line of d.split('\n')) {
        if (line === 'ready' || line.startsWith('tagged ')) seen += 1;
        if (line === 'mid') resolve(child);
      }
      if (!mid && seen >= tags) resolve(child);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crash writer did not reach the kill point in 60 s: ${stderr}`));
    }, 60_000);
    child.once('exit', () => clearTimeout(timer));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`crash writer exited early (${code ?? signal}): ${stderr}`));
    });
  });
}

describe('crash safety under SIGKILL', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(`survives ${ITERATIONS} kills at random points and completes the writes`, {
    timeout: 600_000,
  }, async () => {
    let resumes = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      // Every third kill lands inside an ingest for certain; the others at a random moment.
      const mid = i % 3 === 0;
      const start = Math.floor(Math.random() * CRASH_IMAGES);
      const child = await startWriter(root, start, Math.floor(Math.random() * 3), mid);
      if (!mid) await new Promise((r) => setTimeout(r, Math.random() * 250));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      // The next command opens and reads the store without error.
      const store = await createStore({ root, platform: 'linux/amd64' });
      const index = parseIndex(await readFile(join(root, 'content', 'index.json')));
      await store.repair();
      for await (const blob of store.content.walk()) {
        const file = join(root, 'content', 'blobs', 'sha256', blob.digest.slice(7));
        expect(await sha256File(file), `iteration ${i}: blob ${blob.digest}`).toBe(blob.digest);
      }
      const images = await store.images.list();
      expect(images.length, `iteration ${i}`).toBe(new Set(images.map((m) => m.id)).size);
      for (const img of images) {
        for (const d of [img.manifest, img.config, ...img.layers]) {
          expect(
            await store.info(d.digest),
            `iteration ${i}: image ${img.id} blob ${d.digest}`,
          ).toBeDefined();
        }
      }
      for (const entry of index.manifests) expect(await store.info(entry.digest)).toBeDefined();

      // The writes complete, resuming what the killed writer left half-done.
      const ids: string[] = [];
      for (let j = 0; j < CRASH_IMAGES; j++) {
        const done = await writeCrashImage(store, j);
        if (done.resumed) resumes += 1;
        ids.push(done.id);
      }
      for (let j = 0; j < CRASH_IMAGES; j++) {
        expect((await store.images.get(`localhost:5000/crash/app:${j}`)).id).toBe(ids[j]);
      }
      await store.content.cleanIngest();
      expect(await store.content.listIngests(), `iteration ${i}`).toEqual([]);
    }
    // Every kill inside an ingest is followed by a resumed write.
    expect(resumes).toBeGreaterThanOrEqual(Math.ceil(ITERATIONS / 3));
  });
});
