import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Descriptor, digestOf, isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ContentStore, createContentStore } from './content.js';

// The ContentSink conformance suite runs against createStore (with tag) in store.int.test.ts.

function blob(text: string): { bytes: Buffer; desc: Descriptor } {
  const bytes = Buffer.from(text);
  return {
    bytes,
    desc: { mediaType: 'application/octet-stream', digest: digestOf(bytes), size: bytes.byteLength },
  };
}

describe('content store on disk', () => {
  let root: string;
  let content: ContentStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
    content = await createContentStore({ path: join(root, 'content') });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is an OCI image layout with read-only blobs under blobs/sha256', async () => {
    const { bytes, desc } = blob('layout check');
    const w = await content.writer({ desc });
    await w.write(bytes);
    await w.commit(desc.size, desc.digest);
    expect(JSON.parse(await readFile(join(root, 'content', 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    expect(JSON.parse(await readFile(join(root, 'content', 'index.json'), 'utf8')).manifests).toEqual([]);
    const file = join(root, 'content', 'blobs', 'sha256', desc.digest.slice(7));
    expect(await readFile(file)).toEqual(bytes);
    expect((await stat(file)).mode & 0o777).toBe(0o444);
    expect(await readdir(join(root, 'content', 'ingest'))).toEqual([]);
  });

  it('reads blobs through readerAt, createReadStream and readBlob', async () => {
    const { bytes, desc } = blob('0123456789abcdef');
    const w = await content.writer({ desc });
    await w.write(bytes);
    await w.commit(desc.size, desc.digest);
    const r = await content.readerAt(desc.digest);
    expect(r.size).toBe(16);
    expect((await r.readAt(10, 100)).toString()).toBe('abcdef');
    await r.close();
    const chunks: Buffer[] = [];
    for await (const c of await content.createReadStream(desc.digest, { start: 2, end: 4 }))
      chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('234');
    const sizes: number[] = [];
    for await (const c of await content.createReadStream(desc.digest, { highWaterMark: 5 }))
      sizes.push((c as Buffer).byteLength);
    expect(sizes).toEqual([5, 5, 5, 1]);
    expect((await content.readBlob(desc.digest)).toString()).toBe('0123456789abcdef');
    const seen: string[] = [];
    for await (const i of content.walk()) seen.push(i.digest);
    expect(seen).toEqual([desc.digest]);
  });

  it('takes a batch of chunks in one writev, verified like single writes', async () => {
    const { bytes, desc } = blob('a batch of chunks, written at once');
    const w = await content.writer({ desc });
    const parts = [bytes.subarray(0, 2), bytes.subarray(2, 20), bytes.subarray(20)];
    // a batch whose announced size is not its bytes is refused before anything is written
    await expect(w.writev?.(parts, bytes.byteLength + 1)).rejects.toMatchObject({ code: 'INGEST_INVALID' });
    expect(w.offset).toBe(0);
    await w.writev?.(parts, bytes.byteLength);
    expect(w.offset).toBe(bytes.byteLength);
    await w.commit(desc.size, desc.digest);
    expect(await content.readBlob(desc.digest)).toEqual(bytes);
  });

  it('refuses unknown and malformed digests with typed errors', async () => {
    const missing = digestOf('missing');
    await expect(content.readerAt(missing)).rejects.toSatisfy((e) => isBerthError(e, 'BLOB_NOT_FOUND'));
    await expect(content.readBlob(missing)).rejects.toSatisfy((e) => isBerthError(e, 'BLOB_NOT_FOUND'));
    await expect(content.delete(missing)).rejects.toSatisfy((e) => isBerthError(e, 'BLOB_NOT_FOUND'));
    await expect(content.info('sha256:../../etc/passwd' as never)).rejects.toSatisfy((e) =>
      isBerthError(e, 'INVALID_DIGEST'),
    );
    await expect(content.writer({ ref: 'a\0b', desc: blob('x').desc })).rejects.toSatisfy((e) =>
      isBerthError(e, 'INGEST_INVALID'),
    );
  });

  it('detects a blob whose bytes were changed on disk', async () => {
    const { bytes, desc } = blob('will be corrupted');
    const w = await content.writer({ desc });
    await w.write(bytes);
    await w.commit(desc.size, desc.digest);
    const file = join(root, 'content', 'blobs', 'sha256', desc.digest.slice(7));
    await rm(file);
    await writeFile(file, 'something else');
    await expect(content.readBlob(desc.digest)).rejects.toSatisfy((e) => isBerthError(e, 'STORE_CORRUPT'));
    const report = await content.repair({ verify: true });
    expect(report.corrupt).toEqual([desc.digest]);
    expect(await content.info(desc.digest)).toBeUndefined();
  });

  it('gives a second live writer of the same ref a private ingest, and both commit', async () => {
    const { bytes, desc } = blob('same ref twice at once');
    const a = await content.writer({ desc });
    const b = await content.writer({ desc });
    expect(b.offset).toBe(0);
    await a.write(bytes.subarray(0, 5));
    await b.write(bytes);
    await a.write(bytes.subarray(5));
    await b.commit(desc.size, desc.digest);
    await a.commit(desc.size, desc.digest);
    expect(await content.info(desc.digest)).toEqual({ digest: desc.digest, size: desc.size });
    expect(await content.listIngests()).toEqual([]);
  });

  it('reports and cleans abandoned ingests, and removes dead writers temp files', async () => {
    const { bytes, desc } = blob('abandoned download');
    const w = await content.writer({ ref: 'pull-1', desc });
    await w.write(bytes.subarray(0, 4));
    const live = await content.listIngests();
    expect(live).toMatchObject([{ ref: 'pull-1', offset: 4, active: true }]);
    expect(await content.cleanIngest()).toEqual([]);
    // A new instance sees the first one's ingest as abandoned (as after a crash).
    const again = await createContentStore({ path: join(root, 'content') });
    await writeFile(join(root, 'content', '.tmp-index.json-999999999-0123456789ab'), 'x');
    const report = await again.repair();
    expect(report.removedTemp).toHaveLength(1);
    expect(report.staleIngests).toMatchObject([{ ref: 'pull-1', offset: 4, active: false }]);
    expect(await again.cleanIngest({ olderThan: 60_000 })).toEqual([]);
    expect(await again.cleanIngest()).toMatchObject([{ ref: 'pull-1' }]);
    expect(await again.listIngests()).toEqual([]);
  });
});
