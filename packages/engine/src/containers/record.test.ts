import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordStore, writeRecordFile } from './record.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-record-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeRecordFile (exchange with the spare)', () => {
  it('keeps the newest text in the record and the one before in its spare, on the same two inodes', async () => {
    const path = join(dir, 'config.v2.json');
    const inode = (p: string) => statSync(p).ino;
    await writeRecordFile(path, '{"n":1}\n', true);
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n');
    await writeRecordFile(path, '{"n":2,"longer":true}\n', true);
    const pair = new Set([inode(path), inode(`${path}.spare`)]);
    expect(readFileSync(path, 'utf8')).toBe('{"n":2,"longer":true}\n');
    expect(readFileSync(`${path}.spare`, 'utf8')).toBe('{"n":1}\n');
    // shorter than what the spare held: no tail of the old text stays behind
    await writeRecordFile(path, '{"n":3}\n', false);
    await writeRecordFile(path, '{"n":4}\n', true);
    expect(readFileSync(path, 'utf8')).toBe('{"n":4}\n');
    expect(readFileSync(`${path}.spare`, 'utf8')).toBe('{"n":3}\n');
    // no new file per write: the same two inodes take turns
    expect(new Set([inode(path), inode(`${path}.spare`)])).toEqual(pair);
    expect(readdirSync(dir).sort()).toEqual(['config.v2.json', 'config.v2.json.spare']);
  });

  it('writes over a spare a killed writer left half-written', async () => {
    const sub = join(dir, 'c');
    mkdirSync(sub);
    const path = join(sub, 'config.v2.json');
    await writeRecordFile(path, '{"n":1}\n', true);
    writeFileSync(`${path}.spare`, '{"torn');
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n');
    await writeRecordFile(path, '{"n":2}\n', true);
    expect(readFileSync(path, 'utf8')).toBe('{"n":2}\n');
  });
});

describe('RecordStore.resolve of many at once (rm -f of many)', () => {
  it('resolves each ID prefix from one shared listing, and still refuses an ambiguous one', async () => {
    const store = new RecordStore(dir);
    await store.init();
    const ids = ['ab', 'ac', 'cd'].map((p) => p.padEnd(64, '0'));
    for (const id of ids) mkdirSync(join(dir, 'containers', id));
    const got = await Promise.all(
      ['ab', 'ac', 'cd', 'a', 'ff'].map((r) => store.resolve(r).catch((e: unknown) => e)),
    );
    expect(got.slice(0, 3)).toEqual(ids);
    expect(got[3]).toMatchObject({ code: 'CONTAINER_AMBIGUOUS' });
    expect(got[4]).toMatchObject({ code: 'CONTAINER_NOT_FOUND' });
    // a directory made after those listings is seen by the next one
    const later = 'ef'.padEnd(64, '0');
    mkdirSync(join(dir, 'containers', later));
    expect(await store.resolve('ef')).toBe(later);
  });
});
