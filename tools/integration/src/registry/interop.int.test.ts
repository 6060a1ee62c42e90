// Interop with a client nobody here wrote: what berth pushes, Debian's skopeo copies back, and
// what skopeo pushes, berth pulls; both verified blob by blob against the fixture layouts.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  buildFixtures,
  type FixtureSet,
  pushFixture,
  type RegistryHandle,
  skopeoTlsArgs,
  startRegistry,
} from '@berth/fixtures';
import { type Descriptor, parseManifest } from '@berth/oci';
import { createRegistryClient, type OciLayout, type RegistryClient, toLayout } from '@berth/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryDir } from './package-dir.js';

const run = promisify(execFile);
let fixtures: FixtureSet;
beforeAll(async () => {
  fixtures = await buildFixtures();
});

async function blobsOf(layout: OciLayout, desc: Descriptor): Promise<string[]> {
  const m = parseManifest(await layout.readBlob(desc));
  return [desc.digest, m.config.digest, ...m.layers.map((l) => l.digest)];
}

async function expectSameBlobs(a: OciLayout, b: OciLayout, digests: string[]): Promise<void> {
  for (const d of digests) {
    const [alg, hex] = d.split(':') as [string, string];
    expect(
      (await readFile(join(a.dir, 'blobs', alg, hex))).equals(await readFile(join(b.dir, 'blobs', alg, hex))),
    ).toBe(true);
  }
}

describe.each(['none', 'tls'] as const)('skopeo interop (%s)', (auth) => {
  let registry: RegistryHandle;
  let client: RegistryClient;
  let work: string;
  beforeAll(async () => {
    registry = await startRegistry({ auth });
    client = createRegistryClient(registry.caPem ? { ca: registry.caPem } : {});
    work = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-interop-`));
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('skopeo copies back what berth pushed, byte for byte', async () => {
    for (const variant of ['gzip', 'zstd'] as const) {
      const image = fixtures.images.layers;
      const source = toLayout(image.layout);
      const ref = `${registry.host}/berth-pushed/layers:${variant}`;
      const pushed = await client.push(ref, source, { name: variant });
      const out = join(work, `skopeo-${variant}`);
      await run('skopeo', [
        '--insecure-policy',
        'copy',
        ...skopeoTlsArgs(registry, 'src'),
        `docker://${ref}`,
        `oci:${out}:copied`,
      ]);
      const copied = toLayout(out);
      const desc = await copied.resolve('copied');
      expect(desc.digest).toBe(pushed.digest);
      expect(desc.digest).toBe(image[variant].digest);
      await expectSameBlobs(source, copied, await blobsOf(source, await source.resolve(variant)));
      const { stdout } = await run('skopeo', [
        'inspect',
        ...skopeoTlsArgs(registry, 'inspect'),
        `docker://${ref}`,
      ]);
      expect(JSON.parse(stdout).Digest).toBe(pushed.digest);
    }
  });

  it('berth pulls what skopeo pushed, and skopeo reads the layout berth wrote', async () => {
    for (const name of ['busybox', 'layers'] as const) {
      const image = fixtures.images[name];
      const { reference, digest } = await pushFixture(registry, image, `skopeo-pushed/${name}:1`);
      const target = toLayout(join(work, `berth-${name}`));
      const pulled = await client.pull(reference, target);
      expect(pulled.manifest.digest).toBe(digest);
      const source = toLayout(image.layout);
      await expectSameBlobs(source, target, await blobsOf(source, await source.resolve('gzip')));
      // skopeo reads berth's layout by its full reference name (oci:DIR:NAME splits at the first colon).
      const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${target.dir}:${pulled.reference}`]);
      expect(stdout.trim()).toBe((await target.readBlob(pulled.manifest)).toString().trim());
    }
  });

  it('the built demo CLI pulls what skopeo pushed (its bundle loads tls and child_process lazily)', async () => {
    const cli = join(registryDir, 'dist/cli.cjs');
    const image = fixtures.images.layers;
    const { reference, digest } = await pushFixture(registry, image, 'skopeo-pushed/demo:1');
    const dir = join(work, 'demo-cli');
    const { stdout } = await run(process.execPath, [
      cli,
      'pull',
      reference,
      dir,
      ...(registry.caFile ? ['--ca', registry.caFile] : []),
    ]);
    expect(stdout.trim()).toBe(`${reference}: ${digest}`);
    const source = toLayout(image.layout);
    await expectSameBlobs(source, toLayout(dir), await blobsOf(source, await source.resolve('gzip')));
  });
});
