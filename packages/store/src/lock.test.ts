import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isBerthError, parseIndex } from '@berth/oci';
import { fileLockerSuite } from '@berth/oci/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockfileLocker, STALE_MS } from './lock.js';

const run = promisify(execFile);
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const tempDir = () => mkdtemp(join(tmpdir(), `berth-store-lock-t${process.pid}-`));

fileLockerSuite('store default (proper-lockfile)', async () => {
  const dir = await tempDir();
  return { locker: lockfileLocker, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('the store default locker', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no tag when several processes tag into one store at once', async () => {
    const writers = 3;
    const tags = 8;
    await Promise.all(
      Array.from({ length: writers }, (_, id) =>
        run(
          process.execPath,
          [
            '--conditions=@berth/source',
            '--import',
            'tsx',
            'testdata/tag-writer.ts',
            dir,
            `${id}`,
            `${tags}`,
          ],
          { cwd: pkg },
        ),
      ),
    );
    const index = parseIndex(await readFile(join(dir, 'content', 'index.json')));
    const names = index.manifests.map((d) => d.annotations?.['org.opencontainers.image.ref.name']).sort();
    const want = Array.from({ length: writers }, (_, id) =>
      Array.from({ length: tags }, (_, k) => `localhost:5000/w${id}:${k}`),
    ).flat();
    expect(names).toEqual(want.sort());
    // released: only the lock directory's absence is left behind
    await expect(stat(join(dir, 'images', 'lock.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  }, 60_000);

  it('breaks a lock a dead holder left once it is stale', async () => {
    const path = join(dir, 'lock');
    await mkdir(`${path}.lock`); // what a holder killed with SIGKILL leaves
    const old = new Date(Date.now() - 2 * STALE_MS);
    await utimes(`${path}.lock`, old, old);
    const l = await lockfileLocker.lock(path, { signal: AbortSignal.timeout(5000) });
    await l.release();
  });

  it('waits for a fresh lock directory (a live holder in another process)', async () => {
    const path = join(dir, 'lock');
    await mkdir(`${path}.lock`);
    const waiting = lockfileLocker.lock(path, { signal: AbortSignal.timeout(300) });
    await expect(waiting).rejects.toMatchObject({ name: 'TimeoutError' });
    await rm(`${path}.lock`, { recursive: true });
    await (await lockfileLocker.lock(path)).release();
  });

  it('fails with LOCK_FAILED naming the path when the lock cannot be made', async () => {
    await writeFile(join(dir, 'file'), '');
    const path = join(dir, 'file', 'lock');
    const err = await lockfileLocker.lock(path).catch((e: unknown) => e);
    expect(isBerthError(err, 'LOCK_FAILED')).toBe(true);
    expect((err as Error).message).toContain(path);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ENOTDIR');
  });
});
