import { execFileSync } from 'node:child_process';
import { appendFile, chmod, chown, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { buildFixtures, type FixtureSet, fixtureLayers, readTree } from '@berth/fixtures';
import {
  createSnapshotter,
  diffLayer,
  type mountAll,
  type Snapshotter,
  type SnapshotterDriver,
  unpackLayer,
} from '@berth/overlay';
import { setAttributeSync as lsetxattr } from '@napi-rs/xattr';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mountTracker } from './mounts.js';

let fixtures: FixtureSet;
let root: string;
const mounts_ = mountTracker();

beforeAll(async () => {
  fixtures = await buildFixtures();
});

afterEach(async () => {
  await mounts_.releaseAll();
  if (root) await rm(root, { recursive: true, force: true });
});

const mountAt = (mounts: Parameters<typeof mountAll>[0], name: string) =>
  mounts_.at(mounts, `${root}/${name}`);

const release = (target: string) => mounts_.release(target);

async function unpackImage(sn: Snapshotter): Promise<string> {
  let parent: string | undefined;
  for (const layer of fixtureLayers(fixtures.images.layers, 'gzip')) {
    parent = (
      await unpackLayer({
        snapshotter: sn,
        ...(parent === undefined ? {} : { parent }),
        stream: layer.open() as never,
        diffId: layer.diffId,
        sync: false,
      })
    ).chainId;
  }
  return parent!;
}

/** What a container might do: add, modify, delete, replace dirs, rename a lower dir, links, xattrs. */
async function change(c: string): Promise<void> {
  await writeFile(`${c}/opt/new`, 'new file\n');
  lsetxattr(`${c}/opt/new`, 'user.binary', Buffer.from([0xff, 0x00, 0x80, 0x41]));
  await appendFile(`${c}/etc/passwd`, 'app:x:1000:1000::/home/user:/bin/sh\n');
  await rm(`${c}/etc/group`);
  await rm(`${c}/opt/opaque`, { recursive: true });
  await mkdir(`${c}/opt/opaque`);
  await writeFile(`${c}/opt/opaque/fresh`, 'in a recreated dir\n');
  await rm(`${c}/opt/file-to-dir`, { recursive: true });
  await writeFile(`${c}/opt/h1`, 'two names\n');
  await link(`${c}/opt/h1`, `${c}/opt/h2`);
  await symlink('/etc/passwd', `${c}/opt/newlink`);
  execFileSync('mkfifo', ['-m', '0640', `${c}/opt/newfifo`]);
  await chown(`${c}/home/user/.profile`, 1000, 1000);
  await chmod(`${c}/usr/local/bin/suid`, 0o4750);
  await writeFile(`${c}/opt/${'n'.repeat(150)}`, 'long name\n');
  await writeFile(`${c}/opt/ünïcode`, 'utf-8 name\n');
  execFileSync('mv', [`${c}/opt/empty-nested`, `${c}/opt/renamed`]); // redirect_dir=off: copied
  const t = new Date('2001-02-03T04:05:06Z');
  execFileSync('touch', ['-h', '-d', t.toISOString(), `${c}/opt/newlink`]);
}

async function blobOf(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe.each(['overlay', 'copy'] as SnapshotterDriver[])('diffLayer (%s driver)', (driver) => {
  it('apply(diff(container)) on the image gives the container view, deterministically', async () => {
    root = await mkdtemp(`${tmpdir()}/berth-t${process.pid}-`);
    const sn = createSnapshotter({ root: `${root}/snap`, driver });
    const image = await unpackImage(sn);
    const upper = await sn.prepare('ctr', image);
    const c = await mountAt(upper, 'ctr');
    await change(c);
    const want = readTree(c);
    await release(c);

    const lower = driver === 'copy' ? await sn.view('lower', image) : undefined;
    const diff = () => diffLayer({ upper, ...(lower ? { lower } : {}), compression: 'gzip' });
    const d1 = diff();
    const blob = await blobOf(d1.stream);
    const r1 = await d1.result;
    const d2 = diff();
    await blobOf(d2.stream);
    const r2 = await d2.result;
    expect(r2).toEqual(r1); // deterministic
    expect(r1.size).toBe(blob.byteLength);
    const plain = diffLayer({ upper, ...(lower ? { lower } : {}) });
    await blobOf(plain.stream);
    expect((await plain.result).diffId).toBe(r1.diffId);

    const applied = await unpackLayer({
      snapshotter: sn,
      parent: image,
      stream: [blob],
      diffId: r1.diffId,
      digest: r1.digest,
    });
    const view = await sn.view('check', applied.chainId);
    const got = readTree(await mountAt(view, 'check'));
    const differs = Object.keys({ ...got, ...want }).filter(
      (k) => JSON.stringify(got[k]) !== JSON.stringify(want[k]),
    );
    expect(differs.map((k) => [k, got[k], want[k]])).toEqual([]);
    expect(got).toEqual(want);
    expect(got['/etc/group']).toBeUndefined();
    expect(got['/opt/opaque/lower-a']).toBeUndefined();
    expect(got['/opt/h1']?.links).toEqual(['/opt/h1', '/opt/h2']);
    expect(got['/opt/new']?.xattrs).toEqual({
      'user.binary': Buffer.from([0xff, 0x00, 0x80, 0x41]).toString('base64'),
    });
  });
});
