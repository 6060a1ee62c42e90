import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { ImageProgressEvent } from '@berth/engine';
import { createEngine, type Engine } from '@berth/engine';
import {
  buildFixtures,
  type ExpectedTree,
  ensureDockerd,
  type FixtureSet,
  pushFixture,
  type RegistryHandle,
  readTree,
  startRegistry,
  withoutTimes,
} from '@berth/fixtures';
import { isBerthError, type LogFields, silentLogger } from '@berth/oci';
import { mountAll, unmount } from '@berth/overlay';
import tar from 'tar-stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let fixtures: FixtureSet;
let registry: RegistryHandle;
const roots: string[] = [];
const engines: Engine[] = [];
const mounted: string[] = [];

beforeAll(async () => {
  fixtures = await buildFixtures();
  registry = await startRegistry();
  await pushFixture(registry, fixtures.images.busybox, 'test/busybox:1');
  await pushFixture(registry, fixtures.images.layers, 'test/layers:gzip');
  await pushFixture(registry, fixtures.images.layers, 'test/layers:zstd', { variant: 'zstd' });
  await pushFixture(registry, fixtures.images.multiarch, 'test/multiarch:1');
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

afterEach(async () => {
  for (const m of mounted.splice(0)) await unmount(m, { lazy: true }).catch(() => undefined);
  for (const e of engines.splice(0)) await e.close();
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
  roots.push(r);
  return r;
}

async function engine(root?: string): Promise<Engine> {
  const e = await createEngine({
    root: root ?? join(await tempDir(), 'root'),
    runRoot: join(await tempDir(), 'run'),
  });
  engines.push(e);
  return e;
}

const ref = (name: string) => `${registry.host}/${name}`;

async function mergedTree(e: Engine, image: string) {
  const info = await e.images.inspect(image);
  const data = info.GraphDriver.Data as Record<string, string>;
  const lowers = [data.UpperDir, ...(data.LowerDir ? data.LowerDir.split(':') : [])];
  const target = join(await tempDir(), 'rootfs');
  await mkdir(target);
  const mount =
    lowers.length === 1
      ? { type: 'bind', source: lowers[0] as string, options: ['rbind', 'ro'] }
      : { type: 'overlay', source: 'overlay', options: ['ro', `lowerdir=${lowers.join(':')}`] };
  await mountAll([mount], target);
  mounted.push(target);
  try {
    return readTree(target);
  } finally {
    await unmount(target);
    mounted.pop();
  }
}

describe('pull', () => {
  it('pulls busybox with docker-shaped progress, then is up to date', async () => {
    const root = join(await tempDir(), 'root');
    const e = await engine(root);
    const events: ImageProgressEvent[] = [];
    const [r] = await e.images.pull(ref('test/busybox:1'), { onProgress: (ev) => events.push(ev) });
    const layer = fixtures.images.busybox.gzip;
    if (layer.kind !== 'manifest') throw new Error('fixture');
    expect(r?.digest).toBe(layer.digest);
    expect(r?.id).toBe(layer.config.digest);
    expect(r?.status).toBe('downloaded');
    const statuses = events.map((ev) => (ev.id ? `${ev.id}: ${ev.status}` : ev.status));
    const id = layer.layers[0]!.digest.slice(7, 19);
    expect(statuses[0]).toBe('1: Pulling from test/busybox');
    for (const s of ['Pulling fs layer', 'Verifying Checksum', 'Download complete', 'Pull complete'])
      expect(statuses).toContain(`${id}: ${s}`);
    expect(statuses).toContain(`Digest: ${layer.digest}`);
    expect(statuses.at(-1)).toBe(`Status: Downloaded newer image for ${ref('test/busybox:1')}`);
    expect(events.some((ev) => ev.status === 'Downloading' && ev.total === layer.layers[0]!.size)).toBe(true);

    const again: ImageProgressEvent[] = [];
    const [r2] = await e.images.pull(ref('test/busybox:1'), { onProgress: (ev) => again.push(ev) });
    expect(r2?.status).toBe('up-to-date');
    expect(again.map((ev) => ev.status)).toContain('Already exists');
    expect(again.at(-1)?.status).toBe(`Status: Image is up to date for ${ref('test/busybox:1')}`);

    const list = await e.images.list();
    expect(list).toHaveLength(1);
    expect(list[0]?.RepoTags).toEqual([ref('test/busybox:1')]);
    expect(list[0]?.RepoDigests).toEqual([`${ref('test/busybox')}@${layer.digest}`]);
    // the engine injects @berth/runtime's flock(2) into the store and the snapshotter: their lock
    // files are flock'd files (the packages' pure-JS default makes a `<name>.lock` directory)
    for (const lock of ['images/lock', 'snapshots/metadata.flock'])
      expect((await stat(join(root, lock))).isFile()).toBe(true);
  });

  it.each(['gzip', 'zstd'] as const)('unpacks layers:%s into the expected tree', async (variant) => {
    const e = await engine();
    await e.images.pull(ref(`test/layers:${variant}`));
    const expected = JSON.parse(await readFile(fixtures.images.layers.expectedTree!, 'utf8')) as ExpectedTree;
    const seen = await mergedTree(e, ref(`test/layers:${variant}`));
    expect(withoutTimes(seen)).toEqual(expected.entries);
  });

  it('makes whiteouts, the fifo and the syncfs by system calls, and decodes gzip with ISA-L', async () => {
    // the engine passes @berth/runtime's FsCalls to the snapshotter: with no mknod, mkfifo, sync
    // or chattr to run (overlay's default), the pull still unpacks every layer; and its
    // berth-inflate.node, which each apply thread loads to decode the gzip layers
    const decoders: unknown[] = [];
    const logger = {
      ...silentLogger,
      debug: (msg: string, fields?: LogFields) => {
        if (msg === 'gzip layer') decoders.push(fields?.decoder);
      },
    };
    const e = await createEngine({
      root: join(await tempDir(), 'root'),
      runRoot: join(await tempDir(), 'run'),
      logger,
    });
    engines.push(e);
    const path = process.env.PATH;
    process.env.PATH = await tempDir();
    try {
      await e.images.pull(ref('test/layers:gzip'));
    } finally {
      process.env.PATH = path;
    }
    const expected = JSON.parse(await readFile(fixtures.images.layers.expectedTree!, 'utf8')) as ExpectedTree;
    expect(withoutTimes(await mergedTree(e, ref('test/layers:gzip')))).toEqual(expected.entries);
    expect(decoders.length).toBeGreaterThan(0);
    expect(new Set(decoders)).toEqual(new Set(['isa-l']));
  });

  it('pulls the host platform of an index, and fails cleanly for a missing one', async () => {
    const e = await engine();
    const [r] = await e.images.pull(ref('test/multiarch:1'));
    expect(r?.digest).toBe(fixtures.images.multiarch.gzip.digest);
    const err = await e.images.pull(ref('test/multiarch:1'), { platform: 'linux/s390x' }).catch((x) => x);
    expect(isBerthError(err, 'PLATFORM_NOT_FOUND')).toBe(true);
    const missing = await e.images.pull(ref('test/nothing:1')).catch((x) => x);
    expect(isBerthError(missing)).toBe(true);
  });

  it('skopeo reads the content directory as an OCI layout', async () => {
    const e = await engine();
    await e.images.pull(ref('test/busybox:1'));
    const { stdout } = await run('skopeo', ['inspect', `oci:${e.root}/content:${ref('test/busybox:1')}`]);
    const info = JSON.parse(stdout) as { Digest: string; Layers: string[] };
    const fx = fixtures.images.busybox.gzip;
    if (fx.kind !== 'manifest') throw new Error('fixture');
    expect(info.Layers).toEqual(fx.layers.map((l) => l.digest));
  });
});

describe('list, inspect, history, tag, rmi, prune', () => {
  it('behaves like docker', async () => {
    const e = await engine();
    const name = ref('test/busybox:1');
    await e.images.pull(name);
    const fx = fixtures.images.busybox.gzip;
    if (fx.kind !== 'manifest') throw new Error('fixture');
    const info = await e.images.inspect(name);
    expect(info.Id).toBe(fx.config.digest);
    expect(info.RepoTags).toEqual([name]);
    expect(info.RootFS).toEqual({ Type: 'layers', Layers: fx.layers.map((l) => l.diffId) });
    expect(info.Os).toBe('linux');
    expect((info.Config as { Cmd: string[] }).Cmd).toEqual(['sh']);
    expect(info.Parent).toBe('');
    const hist = await e.images.history(name);
    expect(hist[0]?.Id).toBe(fx.config.digest);
    expect(hist.length).toBeGreaterThan(0);

    // by ID prefix too
    expect((await e.images.inspect(fx.config.digest.slice(7, 19))).Id).toBe(fx.config.digest);
    const nf = await e.images.inspect('nosuch:1').catch((x) => x);
    expect(isBerthError(nf, 'IMAGE_NOT_FOUND')).toBe(true);
    expect(nf.message).toBe('No such image: nosuch:1');

    await e.images.tag(name, 'other/one:2');
    expect((await e.images.list({ reference: ['other/*'] }))[0]?.RepoTags).toEqual(['other/one:2']);
    const conflict = await e.images.remove(fx.config.digest).catch((x) => x);
    expect(isBerthError(conflict, 'IMAGE_CONFLICT')).toBe(true);
    expect(conflict.message).toMatch(
      /^conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories$/,
    );
    expect(await e.images.remove('other/one:2')).toEqual([{ Untagged: 'other/one:2' }]);
    const snapsBefore = (await readSnapshots(e)).length;
    expect(snapsBefore).toBe(1);
    const removed = await e.images.remove(name);
    expect(removed).toEqual([
      { Untagged: name },
      { Untagged: `${ref('test/busybox')}@${fx.digest}` },
      { Deleted: fx.config.digest },
    ]);
    expect(await e.images.list()).toEqual([]);
    expect(await readSnapshots(e)).toEqual([]);
    const gone = await e.images.remove('busybox').catch((x) => x);
    expect(gone.message).toBe('No such image: busybox:latest');
  });

  it('prunes dangling images, and every unused one with all', async () => {
    const e = await engine();
    await e.images.pull(ref('test/busybox:1'));
    await e.images.pull(ref('test/layers:gzip'));
    // retag layers' name onto busybox: the layers image becomes dangling
    await e.images.tag(ref('test/busybox:1'), ref('test/layers:gzip'));
    const dangling = await e.images.list({ dangling: true });
    expect(dangling).toHaveLength(1);
    expect(dangling[0]?.RepoTags).toEqual([]);
    const report = await e.images.prune();
    expect(report.ImagesDeleted).toContainEqual({
      Deleted:
        fixtures.images.layers.gzip.kind === 'manifest' ? fixtures.images.layers.gzip.config.digest : '',
    });
    expect(report.SpaceReclaimed).toBeGreaterThan(0);
    expect(await e.images.list({ dangling: true })).toEqual([]);
    expect(await e.images.list()).toHaveLength(1);
    const du = await e.images.diskUsage();
    expect(du.total).toBe(1);
    expect(du.reclaimable).toBe(du.size);
    const all = await e.images.prune({ all: true });
    expect(all.ImagesDeleted.some((d) => 'Deleted' in d)).toBe(true);
    expect(await e.images.list()).toEqual([]);
    expect(await readSnapshots(e)).toEqual([]);
  });
});

async function readSnapshots(e: Engine): Promise<string[]> {
  try {
    const m = JSON.parse(await readFile(join(e.root, 'snapshots', 'metadata.json'), 'utf8')) as {
      snapshots: Record<string, unknown> | [string, unknown][];
    };
    return Array.isArray(m.snapshots) ? m.snapshots.map(([k]) => k) : Object.keys(m.snapshots);
  } catch {
    return [];
  }
}

async function saveTo(e: Engine, refs: string[], format?: 'docker' | 'oci'): Promise<string> {
  const path = join(await tempDir(), 'out.tar');
  const out = createWriteStream(path);
  await e.images.save(refs, { output: out, ...(format ? { format } : {}) });
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return path;
}

describe('save and load', () => {
  it('round-trips a docker-archive and an OCI layout', async () => {
    const e = await engine();
    const name = ref('test/layers:zstd');
    await e.images.pull(name);
    const path = await saveTo(e, [name]);
    const { stdout } = await run('skopeo', ['inspect', `docker-archive:${path}`]);
    expect(JSON.parse(stdout).Layers).toHaveLength(4);
    const e2 = await engine();
    const r = await e2.images.load({ input: createReadStream(path) });
    expect(r.messages).toEqual([`Loaded image: ${name}`]);
    const expected = JSON.parse(await readFile(fixtures.images.layers.expectedTree!, 'utf8')) as ExpectedTree;
    expect(withoutTimes(await mergedTree(e2, name))).toEqual(expected.entries);

    const oci = await saveTo(e, [name], 'oci');
    await run('skopeo', ['inspect', `oci-archive:${oci}:${name}`]);
    const e3 = await engine();
    expect((await e3.images.load({ input: createReadStream(oci) })).messages).toEqual([
      `Loaded image: ${name}`,
    ]);
    expect((await e3.images.inspect(name)).Id).toBe((await e.images.inspect(name)).Id);
  });

  it('loads the fixtures docker-archive', async () => {
    const e = await engine();
    const archive = fixtures.images.busybox.dockerArchive!;
    const r = await e.images.load({ input: createReadStream(archive.path) });
    expect(r.messages).toEqual([`Loaded image: ${archive.repoTag}`]);
    const expected = JSON.parse(
      await readFile(fixtures.images.busybox.expectedTree!, 'utf8'),
    ) as ExpectedTree;
    expect(withoutTimes(await mergedTree(e, archive.repoTag))).toEqual(expected.entries);
  });

  it('refuses hostile archives and leaves no image', async () => {
    const e = await engine();
    const cases: [string, Partial<tar.Header> & { name: string }, Buffer][] = [
      ['traversal', { name: '../evil' }, Buffer.from('x')],
      ['absolute', { name: '/etc/evil' }, Buffer.from('x')],
      ['digest', { name: `blobs/sha256/${'a'.repeat(64)}` }, Buffer.from('not that')],
      ['device', { name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }, Buffer.alloc(0)],
    ];
    for (const [what, header, body] of cases) {
      const pack = tar.pack();
      pack.entry(header, body);
      pack.entry({ name: 'manifest.json' }, Buffer.from('[]'));
      pack.finalize();
      const err = await e.images.load({ input: pack as unknown as Readable }).catch((x) => x);
      expect([what, isBerthError(err) && /ARCHIVE_/.test(err.code)]).toEqual([what, true]);
    }
    // a layer that does not match the config's diff ID
    const real = await run('tar', ['-tf', fixtures.images.busybox.dockerArchive!.path]);
    expect(real.stdout).toContain('manifest.json');
    const manifest = JSON.parse(
      (await run('tar', ['-xOf', fixtures.images.busybox.dockerArchive!.path, 'manifest.json'])).stdout,
    ) as { Config: string; Layers: string[] }[];
    const config = (
      await run('tar', ['-xOf', fixtures.images.busybox.dockerArchive!.path, manifest[0]!.Config])
    ).stdout;
    const pack = tar.pack();
    const layer = await new Promise<Buffer>((resolve) => {
      const p = tar.pack();
      p.entry({ name: 'hello' }, 'hi');
      p.finalize();
      const chunks: Buffer[] = [];
      p.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      p.on('end', () => resolve(Buffer.concat(chunks)));
    });
    pack.entry({ name: 'config.json' }, config);
    pack.entry({ name: 'layer.tar' }, layer);
    pack.entry(
      { name: 'manifest.json' },
      JSON.stringify([{ Config: 'config.json', RepoTags: ['evil:1'], Layers: ['layer.tar'] }]),
    );
    pack.finalize();
    const err = await e.images.load({ input: pack as unknown as Readable }).catch((x) => x);
    expect(isBerthError(err, 'DIGEST_MISMATCH')).toBe(true);
    expect(await e.images.list()).toEqual([]);
    expect(await readSnapshots(e)).toEqual([]);
  });
});

describe('push', () => {
  it('pushes a retagged image that skopeo reads back', async () => {
    const e = await engine();
    await e.images.pull(ref('test/busybox:1'));
    await e.images.tag(ref('test/busybox:1'), ref('pushed/busybox:2'));
    const events: ImageProgressEvent[] = [];
    const r = await e.images.push(ref('pushed/busybox:2'), { onProgress: (ev) => events.push(ev) });
    expect(events[0]?.status).toBe(`The push refers to repository [${ref('pushed/busybox')}]`);
    expect(events.at(-1)?.status).toBe(`2: digest: ${r.digest} size: ${r.size}`);
    const { stdout } = await run('skopeo', [
      'inspect',
      '--tls-verify=false',
      `docker://${ref('pushed/busybox:2')}`,
    ]);
    expect(JSON.parse(stdout).Digest).toBe(r.digest);
    const missing = await e.images.push(ref('pushed/none:1')).catch((x) => x);
    expect(isBerthError(missing, 'IMAGE_NOT_FOUND')).toBe(true);
  });
});

describe('login and logout', () => {
  it('checks credentials against /v2/ before storing them', async () => {
    const secured = await startRegistry({ auth: 'basic' });
    try {
      const dir = await tempDir();
      const e = await createEngine({
        root: join(dir, 'root'),
        registry: { dockerConfigDir: join(dir, 'docker') },
      });
      engines.push(e);
      const bad = await e.images
        .login({ registry: secured.host, username: secured.username!, password: 'wrong' })
        .catch((x) => x);
      expect(isBerthError(bad, 'UNAUTHORIZED')).toBe(true);
      await expect(stat(join(dir, 'docker', 'config.json'))).rejects.toThrow();
      expect(
        await e.images.login({
          registry: secured.host,
          username: secured.username!,
          password: secured.password!,
        }),
      ).toEqual({
        status: 'Login Succeeded',
      });
      const cfg = JSON.parse(await readFile(join(dir, 'docker', 'config.json'), 'utf8')) as {
        auths: Record<string, unknown>;
      };
      expect(Object.keys(cfg.auths)).toEqual([secured.host]);
      expect(await e.images.logout(secured.host)).toEqual({ registry: secured.host, removed: true });
    } finally {
      await secured.stop();
    }
  });
});

describe('docker interop', () => {
  it('docker load accepts berth save output and runs it; berth loads docker save output', async () => {
    const dockerd = await ensureDockerd();
    try {
      const e = await engine();
      const name = ref('test/busybox:1');
      await e.images.pull(name);
      await e.images.tag(name, 'berth-interop/busybox:1');
      const path = await saveTo(e, ['berth-interop/busybox:1']);
      const loaded = await run('/usr/bin/docker', ['load', '-i', path]);
      expect(loaded.stdout).toContain('berth-interop/busybox:1');
      const out = await run('/usr/bin/docker', [
        'run',
        '--rm',
        '--network',
        'none',
        'berth-interop/busybox:1',
        'echo',
        'hello',
      ]);
      expect(out.stdout).toBe('hello\n');
      const back = join(await tempDir(), 'docker.tar');
      await run('/usr/bin/docker', ['save', '-o', back, 'berth-interop/busybox:1']);
      // -f: only untags when containers left by someone else (a killed bench) use the same image
      await run('/usr/bin/docker', ['rmi', '-f', 'berth-interop/busybox:1']);
      const e2 = await engine();
      expect((await e2.images.load({ input: createReadStream(back) })).messages).toEqual([
        'Loaded image: berth-interop/busybox:1',
      ]);
      expect((await e2.images.inspect('berth-interop/busybox:1')).Id).toBe((await e.images.inspect(name)).Id);
    } finally {
      await dockerd.stop();
    }
  }, 180_000);
});
