import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildFixtures } from '@berth/fixtures';
import type { BenchContext, EngineName, Scenario } from '../scenario.js';

/**
 * `images-200`: listing 200 images. Setup writes one docker-archive holding 200 images (the
 * busybox layer shared, each config with its own label, so 200 image IDs and 200 tags
 * `berth-bench/img:N`) and loads it once into each engine: one `load`, no per-image spawns.
 */
const COUNT = 200;
const REPO = 'berth-bench/img';
let archive: Promise<string> | undefined;

async function buildArchive(scratch: string): Promise<string> {
  const fixtures = await buildFixtures();
  const src = fixtures.images.busybox.dockerArchive;
  if (!src) throw new Error('images-200: busybox has no docker-archive');
  const dir = join(scratch, 'archive');
  await mkdir(dir, { recursive: true });
  execFileSync('tar', ['-xf', src.path, '-C', dir]);
  const [entry] = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
    Config: string;
    Layers: string[];
  }[];
  if (!entry) throw new Error('images-200: empty manifest.json');
  const base = JSON.parse(await readFile(join(dir, entry.Config), 'utf8')) as {
    config?: { Labels?: Record<string, string> };
  };
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  for (let i = 0; i < COUNT; i++) {
    const config = {
      ...base,
      config: { ...base.config, Labels: { ...base.config?.Labels, 'bench.n': String(i) } },
    };
    const bytes = Buffer.from(JSON.stringify(config));
    const name = `blobs/sha256/${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(join(dir, name), bytes);
    manifest.push({ Config: name, RepoTags: [`${REPO}:${i}`], Layers: entry.Layers });
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  await rm(join(dir, 'index.json'), { force: true });
  await rm(join(dir, 'repositories'), { force: true });
  const path = join(scratch, 'images-200.tar');
  execFileSync('tar', ['-cf', path, '-C', dir, '.']);
  return path;
}

const berthRoot = (ctx: BenchContext) => join(ctx.scratch, 'berth-root');

function cleanup(argv: string[]): void {
  const ids = execFileSync(
    argv[0] as string,
    [...argv.slice(1), 'images', '-q', '--filter', `reference=${REPO}`],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((s) => s !== '');
  if (ids.length > 0)
    execFileSync(argv[0] as string, [...argv.slice(1), 'rmi', '-f', ...new Set(ids)], { stdio: 'ignore' });
}

function argvOf(ctx: BenchContext, engine: EngineName): string[] {
  return engine === 'berth' ? ctx.berth : engine === 'docker' ? ctx.docker! : ctx.podman!;
}

export const images200: Scenario = {
  name: 'images-200',
  description: 'list images with 200 tagged images in the store (berth images vs docker/podman images)',
  engines: ['berth', 'docker', 'podman'],
  target: 'berth median < 150 ms',
  async setup(ctx, engine) {
    archive ??= buildArchive(ctx.scratch);
    const path = await archive;
    const argv = argvOf(ctx, engine);
    if (engine !== 'berth') cleanup(argv);
    execFileSync(argv[0] as string, [...argv.slice(1), 'load', '-q', '-i', path], {
      stdio: 'ignore',
      env: { ...process.env, BERTH_ROOT: berthRoot(ctx) },
    });
  },
  step(ctx, engine) {
    return { argv: [...argvOf(ctx, engine), 'images'], env: { BERTH_ROOT: berthRoot(ctx) } };
  },
  async teardown(ctx, engine) {
    archive = undefined;
    if (engine !== 'berth') cleanup(argvOf(ctx, engine));
  },
};
