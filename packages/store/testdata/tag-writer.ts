// Child process of the store's lock test (src/lock.test.ts): opens the store with its default
// locker, writes one image and tags it `localhost:5000/w<id>:<k>` for k in 0..count-1, each tag
// a locked read-change-write of index.json. Several run at once; none may lose another's tags.
// Run as: node --conditions=@berth/source --import tsx testdata/tag-writer.ts <root> <id> <count>
import { createStore } from '@berth/store';
import { writeTestImage } from '../src/test-image.ts';

const [root, id, count] = process.argv.slice(2);
if (root === undefined || id === undefined || count === undefined)
  throw new Error('usage: tag-writer.ts <root> <id> <count>');
const store = await createStore({ root, platform: 'linux/amd64' });
const img = await writeTestImage(store.content, { layers: [`writer ${id}`] });
for (let k = 0; k < Number(count); k++) await store.images.tag(`localhost:5000/w${id}:${k}`, img.manifest);
