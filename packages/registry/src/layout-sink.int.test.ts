// The ContentSink conformance suite against the OCI-layout sink, plus what only a layout has:
// the files other OCI tools read, tags under concurrency, and reading back for push.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Descriptor, digestOf, isBerthError, MediaType } from '@berth/oci';
import { contentSinkSuite } from '@berth/oci/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REF_NAME_ANNOTATION, toLayout } from './layout-sink.js';

contentSinkSuite('oci layout directory', async () => {
  const root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-layout-`));
  return {
    sink: toLayout(root),
    reopen: async () => toLayout(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

// Every write starts an fdatasync of the file while the next writes go on (writeback): the
// same contract holds, resumes and aborts included.
contentSinkSuite('oci layout directory, writeback after every write', async () => {
  const root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-layout-`));
  return {
    sink: toLayout(root, { writebackBytes: 1 }),
    reopen: async () => toLayout(root, { writebackBytes: 1 }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('oci layout', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-layout-`));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function put(layout: ReturnType<typeof toLayout>, text: string): Promise<Descriptor> {
    const bytes = Buffer.from(text);
    const desc = { mediaType: MediaType.OciManifest, digest: digestOf(bytes), size: bytes.byteLength };
    const w = await layout.writer({ ref: `put-${desc.digest}`, desc });
    await w.write(bytes);
    await w.commit(desc.size, desc.digest);
    return desc;
  }

  it('writes oci-layout, index.json and blobs/sha256 as image-spec lays them out', async () => {
    const layout = toLayout(root);
    const desc = await put(layout, '{"a":1}');
    await layout.tag('docker.io/library/busybox:latest', desc);
    expect(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8'));
    expect(index).toMatchObject({ schemaVersion: 2, mediaType: MediaType.OciIndex });
    expect(index.manifests).toEqual([
      { ...desc, annotations: { [REF_NAME_ANNOTATION]: 'docker.io/library/busybox:latest' } },
    ]);
    expect((await stat(join(root, 'blobs', 'sha256', desc.digest.slice(7)))).size).toBe(desc.size);
    expect(await layout.resolve('docker.io/library/busybox:latest')).toMatchObject({ digest: desc.digest });
  });

  it('records only the tag with refName: tag, and replaces an entry of the same name', async () => {
    const layout = toLayout(root, { refName: 'tag' });
    const a = await put(layout, '{"a":1}');
    const b = await put(layout, '{"b":2}');
    await layout.tag('docker.io/library/busybox:1.36', a);
    await layout.tag('docker.io/library/busybox:1.36', b);
    const entries = await layout.entries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ name: '1.36', descriptor: { digest: b.digest } });
    expect(await layout.resolve('docker.io/library/busybox:1.36')).toMatchObject({ digest: b.digest });
  });

  it('keeps every tag when many tag at once, from two sink objects', async () => {
    const one = toLayout(root);
    const two = toLayout(root);
    const descs = await Promise.all(Array.from({ length: 12 }, (_, i) => put(one, `{"n":${i}}`)));
    await Promise.all(descs.map((d, i) => (i % 2 ? one : two).tag(`example.com/app:t${i}`, d)));
    expect((await one.entries()).map((e) => e.name).sort()).toEqual(
      descs.map((_, i) => `example.com/app:t${i}`).sort(),
    );
  });

  it('refuses a malformed index.json with LAYOUT_INVALID', async () => {
    const layout = toLayout(root);
    await put(layout, '{}');
    await rm(join(root, 'index.json'));
    await import('node:fs/promises').then((fs) => fs.writeFile(join(root, 'index.json'), '{"manifests": 3}'));
    const err = await layout.entries().catch((e) => e);
    expect(isBerthError(err, 'LAYOUT_INVALID')).toBe(true);
    const missing = await toLayout(join(root, 'nothing'))
      .resolve('x')
      .catch((e) => e);
    expect(isBerthError(missing, 'LAYOUT_INVALID')).toBe(true);
  });

  it('repairs the empty oci-layout and index.json a crash before its first sync leaves', async () => {
    // The layout's own files are made durable by sync/tag, not when created: a crash before
    // then can leave them renamed into place but empty.
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(root, 'oci-layout'), '');
    await writeFile(join(root, 'index.json'), '');
    const readErr = await toLayout(root)
      .entries()
      .catch((e) => e);
    expect(isBerthError(readErr, 'LAYOUT_INVALID')).toBe(true);

    const layout = toLayout(root);
    const desc = await put(layout, '{"schemaVersion":2}');
    await layout.tag('example.com/app:1', desc);
    expect(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    expect(await toLayout(root).entries()).toEqual([
      {
        name: 'example.com/app:1',
        descriptor: { ...desc, annotations: { [REF_NAME_ANNOTATION]: 'example.com/app:1' } },
      },
    ]);
  });

  it('verifies large blobs before they enter blobs/', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const desc = { mediaType: MediaType.OciLayerGzip, digest: digestOf(bytes), size: bytes.byteLength };
    const half = 1536 * 1024;
    // A wrong digest, written in two parts (one writev-style batch, one write): refused, nothing kept.
    const wrong = { ...desc, digest: digestOf(randomBytes(8)) };
    const bad = await toLayout(root).writer({ ref: 'bad', desc: wrong });
    await bad.write(bytes.subarray(0, half));
    await bad.write(bytes.subarray(half));
    const err = await bad.commit(wrong.size, wrong.digest).catch((e) => e);
    expect(isBerthError(err, 'DIGEST_MISMATCH')).toBe(true);
    expect(await readdir(join(root, 'blobs', 'sha256'))).toEqual([]);
    expect(await readdir(join(root, 'ingest'))).toEqual([]);
    // An ingest left half-written by one sink object (a killed process) resumes in another:
    // the earlier bytes are hashed from the file.
    const first = await toLayout(root).writer({ ref: 'resume', desc });
    await first.write(bytes.subarray(0, half));
    const layout = toLayout(root);
    const second = await layout.writer({ ref: 'resume', desc });
    expect(second.offset).toBe(half);
    await second.write(bytes.subarray(half));
    await second.commit(desc.size, desc.digest);
    expect(await layout.info(desc.digest)).toEqual({ digest: desc.digest, size: desc.size });
    expect((await readFile(join(root, 'blobs', 'sha256', desc.digest.slice(7)))).equals(bytes)).toBe(true);
  });

  it('writes back a blob as it arrives and still commits, aborts and releases it whole', async () => {
    const bytes = randomBytes(4 * 1024 * 1024 + 5);
    const desc = { mediaType: MediaType.OciLayerGzip, digest: digestOf(bytes), size: bytes.byteLength };
    const layout = toLayout(root, { writebackBytes: 256 * 1024 });
    const write = async (ref: string, upTo: number) => {
      const w = await layout.writer({ ref, desc });
      // 64 KiB at a time: an fdatasync starts every 256 KiB while the writes go on
      for (let at = w.offset; at < upTo; at += 64 * 1024)
        await w.write(bytes.subarray(at, Math.min(at + 64 * 1024, upTo)));
      return w;
    };
    // aborted and released right after a write, with an fdatasync likely in flight
    await (await write('dropped', 1024 * 1024)).abort();
    await ((await write('kept', 1024 * 1024)) as unknown as { release(): Promise<void> }).release();
    expect(await readdir(join(root, 'ingest'))).toHaveLength(1);
    const w = await write('kept', bytes.byteLength);
    await w.commit(desc.size, desc.digest);
    expect(await readdir(join(root, 'ingest'))).toEqual([]);
    expect((await readFile(join(root, 'blobs', 'sha256', desc.digest.slice(7)))).equals(bytes)).toBe(true);
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => toLayout(root, { writebackBytes: bad })).toThrow(/writebackBytes/);
    }
  });

  it('reads blobs back, whole or by range, and refuses unknown ones', async () => {
    const layout = toLayout(root);
    const desc = await put(layout, '0123456789');
    expect((await layout.readBlob(desc)).toString()).toBe('0123456789');
    const chunks: Buffer[] = [];
    for await (const c of await layout.open(desc.digest, { start: 2, end: 5 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('2345');
    const err = await layout.open(digestOf('absent')).catch((e) => e);
    expect(isBerthError(err, 'BLOB_UNKNOWN')).toBe(true);
  });
});
