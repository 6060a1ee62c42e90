import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeTree } from './remove-tree.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-rmtree-`));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A tree with nested directories, files and symlinks that point out of it. */
function tree(): { root: string; outside: string } {
  const root = join(dir, 'snap');
  const outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep'), 'kept');
  mkdirSync(join(root, 'fs/etc/deep/er'), { recursive: true });
  mkdirSync(join(root, 'work/work'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(root, 'fs/etc', `f${i}`), `${i}`);
  writeFileSync(join(root, 'fs/etc/deep/er/x'), 'x');
  symlinkSync(outside, join(root, 'fs/link-to-dir'));
  symlinkSync(join(outside, 'keep'), join(root, 'fs/etc/link-to-file'));
  symlinkSync('/nonexistent', join(root, 'fs/dangling'));
  return { root, outside };
}

describe('removeTree', () => {
  it('removes a tree without following its symlinks', async () => {
    const { root, outside } = tree();
    await removeTree(root);
    expect(existsSync(root)).toBe(false);
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('kept');
  });

  it('hands a tree larger than its budget to fs.promises.rm, which removes the rest', async () => {
    const { root, outside } = tree();
    await removeTree(root, 3);
    expect(existsSync(root)).toBe(false);
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('kept');
  });

  it('is done when the directory is missing, and removes a lone file given as the tree', async () => {
    await removeTree(join(dir, 'missing'));
    const file = join(dir, 'file');
    writeFileSync(file, 'f');
    await removeTree(file);
    expect(existsSync(file)).toBe(false);
  });
  it('removes `last` after everything else, on every path (walk, an FsCalls job, fs.promises.rm)', async () => {
    for (const budget of [256, 1, 0]) {
      const { root, outside } = tree();
      writeFileSync(join(root, 'record'), 'r');
      const seen: boolean[] = [];
      // an FsCalls whose job stops short: what it saw of `last` tells the order of the others
      const calls = {
        removeTree: async (d: string, o?: { last?: string }) => {
          seen.push(o?.last === 'record' && existsSync(join(d, 'record')));
          return false;
        },
      };
      await removeTree(root, budget, calls, { last: 'record' });
      expect(existsSync(root)).toBe(false);
      // the walk finished alone with a budget of 256; the others reached the job with the record in place
      expect(seen).toEqual(budget === 256 ? [] : [true]);
      rmSync(outside, { recursive: true });
    }
  });
});
