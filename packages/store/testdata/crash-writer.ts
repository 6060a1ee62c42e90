// Child process of store's crash test (src/crash.int.test.ts): in a loop, deletes one crash-test
// image, collects garbage (its blobs go), and writes and tags it again, until it is killed with
// SIGKILL. So a kill can land in a lease change, an ingest write, a commit, a tag, a removal or
// a sweep.
// With `mid`, it also stops for a second halfway through its first layer after printing `mid`,
// so the parent can kill it inside an ingest for certain.
// Run as: node --conditions=@berth/source --import tsx testdata/crash-writer.ts <root> [start] [mid]
import { isBerthError } from '@berth/oci';
import { createStore } from '@berth/store';
import { CRASH_IMAGES, writeCrashImage } from '../src/test-image.ts';

const root = process.argv[2];
if (root === undefined) throw new Error('usage: crash-writer.ts <root> [start]');
const start = Number(process.argv[3] ?? 0);
let mid = process.argv[4] === 'mid';
const midLayer = async (): Promise<void> => {
  if (!mid) return;
  mid = false;
  process.stdout.write('mid\n');
  await new Promise((r) => setTimeout(r, 1000));
};
const store = await createStore({ root, platform: 'linux/amd64' });
process.stdout.write('ready\n');
for (let n = start; ; n++) {
  const j = n % CRASH_IMAGES;
  try {
    const img = await store.images.get(`localhost:5000/crash/app:${j}`);
    await store.images.remove(img.id, { force: true });
  } catch (err) {
    if (!isBerthError(err, 'IMAGE_NOT_FOUND')) throw err;
  }
  await store.gc();
  await writeCrashImage(store, j, { midLayer });
  process.stdout.write(`tagged ${j}\n`);
}
