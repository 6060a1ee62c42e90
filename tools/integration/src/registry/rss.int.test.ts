// Memory bound, not speed: pulling a 1 GiB layer streams it, so the pulling process stays under
// 150 MB of RSS. The layer is generated, pushed to the real registry with chunked uploads, then
// pulled by the demo CLI (bundled here with esbuild from source) in a child process that reports
// its peak RSS (getrusage ru_maxrss).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type RegistryHandle, startRegistry } from '@berth/fixtures';
import { createDigester, type Descriptor, digestOf, MediaType } from '@berth/oci';
import { createRegistryClient, toLayout } from '@berth/registry';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryDir } from './package-dir.js';

const run = promisify(execFile);
const GIB = 1024 * 1024 * 1024;
const LIMIT_BYTES = 150 * 1000 * 1000;

describe('a 1 GiB layer', () => {
  let registry: RegistryHandle;
  let work: string;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
    work = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-rss-`));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('is pulled in under 150 MB of RSS', { timeout: 900_000 }, async () => {
    // Build the image in a layout: 1 GiB of a repeated 1 MiB random block.
    const source = toLayout(join(work, 'source'));
    const block = randomBytes(1024 * 1024);
    const hasher = createDigester();
    for (let i = 0; i < GIB / block.byteLength; i++) hasher.update(block);
    const layer: Descriptor = { mediaType: MediaType.OciLayer, digest: hasher.digest(), size: GIB };
    const lw = await source.writer({ ref: 'big-layer', desc: layer });
    for (let i = 0; i < GIB / block.byteLength; i++) await lw.write(block);
    await lw.commit(layer.size, layer.digest);
    const put = async (bytes: Buffer, mediaType: string): Promise<Descriptor> => {
      const desc = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
      const w = await source.writer({ ref: desc.digest, desc });
      await w.write(bytes);
      await w.commit(desc.size, desc.digest);
      return desc;
    };
    const config = await put(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
        }),
      ),
      MediaType.OciConfig,
    );
    const manifest = await put(
      Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }),
      ),
      MediaType.OciManifest,
    );
    const ref = `${registry.host}/berth/big:1`;
    const client = createRegistryClient();
    try {
      await client.push(ref, source, { descriptor: manifest });
    } finally {
      await client.close();
    }
    await rm(join(work, 'source'), { recursive: true, force: true });

    const cli = join(work, 'cli.mjs');
    await build({
      entryPoints: [join(registryDir, 'src/cli.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      outfile: cli,
      conditions: ['@berth/source'],
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
      logLevel: 'error',
    });
    const { stdout } = await run(process.execPath, [cli, 'pull', ref, join(work, 'pulled'), '--json'], {
      maxBuffer: 1024 * 1024,
    });
    const result = JSON.parse(stdout) as { layers: Descriptor[]; maxRssKiB: number };
    expect(result.layers[0]).toMatchObject({ digest: layer.digest, size: GIB });
    expect(await toLayout(join(work, 'pulled')).info(layer.digest)).toEqual({
      digest: layer.digest,
      size: GIB,
    });
    process.stderr.write(`1 GiB pull: peak RSS ${(result.maxRssKiB / 1024).toFixed(1)} MiB\n`);
    expect(result.maxRssKiB * 1024).toBeLessThan(LIMIT_BYTES);
  });
});
