// ApplyThreads: a thread is reused for the next layer, a failed layer's thread is not.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { sha256Digest as sha256, tarOf } from '@berth/fixtures';
import { ApplyThreads, createSnapshotter, unpackLayers } from '@berth/overlay';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(`${tmpdir()}/berth-t${process.pid}-`);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function layer(name: string, content: string) {
  const blob = await tarOf([{ name, content }]);
  const dir = `${root}/${name}-${Math.random().toString(16).slice(2)}`;
  await mkdir(dir);
  return { blob, dir, target: { root: dir, lowers: [], whiteouts: 'overlay' as const } };
}

describe('ApplyThreads', () => {
  it('applies layers one after another on a warmed thread, and starts a new one after a failure', async () => {
    const threads = new ApplyThreads();
    try {
      threads.warm(1);
      expect(threads.started).toBe(1);
      for (const text of ['first', 'second']) {
        const l = await layer(text, `${text}\n`);
        const done = await threads.apply(l.target, { stream: [l.blob], diffId: sha256(l.blob) }, false);
        expect(done.result.diffId).toBe(sha256(l.blob));
        expect(await readFile(`${l.dir}/${text}`, 'utf8')).toBe(`${text}\n`);
      }
      expect(threads.started).toBe(1);

      const bad = await layer('bad', 'x');
      const hostile = await tarOf([{ name: '../escape', content: 'x' }]);
      await expect(threads.apply(bad.target, { stream: [hostile] }, false)).rejects.toMatchObject({
        code: 'LAYER_INVALID_ENTRY',
      });
      const l = await layer('third', 'third\n');
      await threads.apply(l.target, { stream: [l.blob] }, false);
      expect(await readFile(`${l.dir}/third`, 'utf8')).toBe('third\n');
      expect(threads.started).toBe(2);
    } finally {
      await threads.close();
    }
    const l = await layer('late', 'late\n');
    await expect(threads.apply(l.target, { stream: [l.blob] }, false)).rejects.toMatchObject({
      code: 'INTERNAL',
    });
  });

  it("unpacks a stack on the caller's warmed threads and leaves them open for the next", async () => {
    const sn = createSnapshotter({ root: `${root}/snap` });
    const threads = new ApplyThreads();
    try {
      threads.warm(1);
      const stack = async (names: string[]) =>
        Promise.all(
          names.map(async (name) => {
            const blob = await tarOf([{ name, content: `${name}\n` }]);
            return { diffId: sha256(blob), open: async () => [blob] };
          }),
        );
      const first = await unpackLayers({
        snapshotter: sn,
        layers: await stack(['a', 'b']),
        concurrency: 1,
        threads,
      });
      const second = await unpackLayers({
        snapshotter: sn,
        parent: first.at(-1)?.chainId,
        layers: await stack(['c']),
        concurrency: 1,
        threads,
      });
      // one thread did all three layers, and is still there
      expect(threads.started).toBe(1);
      const top = await sn.stat(second[0]!.chainId);
      expect(await readFile(`${top.dir}/c`, 'utf8')).toBe('c\n');
      expect(top.parent).toBe(first[1]!.chainId);
    } finally {
      await threads.close();
    }
  });

  it('moves whole buffers of a stream with movable chunks to the thread, and copies views', async () => {
    const threads = new ApplyThreads();
    try {
      const text = 'moved\n'.repeat(200_000);
      const l = await layer('moved', text);
      // whole buffers of their own, as a file read or the engine's download copies give them
      const pieces: Buffer[] = [];
      for (let at = 0; at < l.blob.length; at += 300_000)
        pieces.push(Buffer.from(l.blob.subarray(at, at + 300_000)));
      // and one view of a larger buffer, which must stay readable here
      const shared = Buffer.alloc(pieces.length > 1 ? 2 * 300_000 : 600_000);
      const lastAt = (pieces.length - 1) * 300_000;
      const last = l.blob.subarray(lastAt);
      shared.set(last, 1000);
      const view = shared.subarray(1000, 1000 + last.length);
      const stream = [...pieces.slice(0, -1), view];
      const done = await threads.apply(
        l.target,
        { stream, diffId: sha256(l.blob), movableChunks: true },
        false,
      );
      expect(done.result.diffId).toBe(sha256(l.blob));
      expect(await readFile(`${l.dir}/moved`, 'utf8')).toBe(text);
      // the whole buffers left this thread; the view's memory did not
      for (const p of pieces.slice(0, -1)) expect(p.byteLength).toBe(0);
      expect(view.byteLength).toBe(last.length);
      expect(Buffer.compare(view, last)).toBe(0);
    } finally {
      await threads.close();
    }
  });
});
