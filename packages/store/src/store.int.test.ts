import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { contentSinkSuite } from '@berth/oci/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from './store.js';
import { writeTestImage } from './test-image.js';

const run = promisify(execFile);

contentSinkSuite('@berth/store createStore', async () => {
  const root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
  return {
    sink: await createStore({ root }),
    reopen: () => createStore({ root }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('the content directory is an OCI layout other tools read', () => {
  let root: string;
  let store: Store;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
    store = await createStore({ root, platform: 'linux/amd64' });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('skopeo copies a tagged image out of content/ by its ref.name', async () => {
    const img = await writeTestImage(store.content, { layers: ['layer one', 'layer two'] });
    await store.tag('localhost:5000/berth/app:1', img.manifest);
    const out = join(root, 'copied');
    await run('skopeo', [
      'copy',
      '--quiet',
      `oci:${join(root, 'content')}:localhost:5000/berth/app:1`,
      `dir:${out}`,
    ]);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.config.digest).toBe(img.config.digest);
    expect(await readFile(join(out, img.layers[1]?.digest.slice(7) ?? ''), 'utf8')).toBe('layer two');
  });
});
