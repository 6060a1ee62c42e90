// Measures images.list() over 200 images (the `images-200` target: `berth images` under 150 ms
// median). Not a test. Each run opens the store afresh, as a new `berth images` process would.
// Run as: node --conditions=@berth/source --import tsx testdata/bench-list.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore } from '@berth/store';
import { writeTestImage } from '../src/test-image.ts';

const root = await mkdtemp(join(tmpdir(), 'berth-bench-'));
try {
  const store = await createStore({ root, platform: 'linux/amd64' });
  for (let i = 0; i < 200; i++) {
    const img = await writeTestImage(store.content, {
      layers: ['shared base layer', `layer ${i}`, `layer ${i} b`],
      labels: { i: String(i) },
    });
    await store.tag(`localhost:5000/bench/app${i % 20}:${i}`, img.manifest);
  }
  const times: number[] = [];
  for (let run = 0; run < 30; run++) {
    const t0 = performance.now();
    const s = await createStore({ root, platform: 'linux/amd64' });
    const list = await s.images.list();
    times.push(performance.now() - t0);
    if (list.length !== 200) throw new Error(`expected 200 images, got ${list.length}`);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? Number.NaN;
  process.stdout.write(
    `open + list() of 200 images: median ${median.toFixed(2)} ms, min ${times[0]?.toFixed(2)} ms, max ${times.at(-1)?.toFixed(2)} ms (30 runs)\n`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
