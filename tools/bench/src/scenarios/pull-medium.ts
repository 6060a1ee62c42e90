import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildFixtures, pushFixture, type RegistryHandle, startRegistry } from '@berth/fixtures';
import type { BenchContext, EngineName, Scenario, Step } from '../scenario.js';

/**
 * `pull-medium`: a cold pull (download, verify, unpack) of the medium fixture (5 layers,
 * ~150 MB uncompressed, gzip) from a local registry. berth pulls into a fresh state root each
 * run; docker and podman remove the image first. The removal happens in `step()`, before the
 * harness starts the clock. dockerd treats 127.0.0.0/8 registries as insecure by default.
 */
let registry: RegistryHandle | undefined;
let reference = '';
/** The medium image's ID (its config digest), the same in every engine. */
let imageId = '';
let users = 0;
let runNo = 0;
let lastRoot: string | undefined;

async function shared(): Promise<void> {
  users++;
  if (registry) return;
  const fixtures = await buildFixtures({ medium: true });
  const medium = fixtures.images.medium;
  if (!medium) throw new Error('pull-medium: the medium fixture was not built');
  registry = await startRegistry();
  reference = (await pushFixture(registry, medium, 'bench/medium:1')).reference;
  if (!('config' in medium.gzip)) throw new Error('pull-medium: the medium fixture is not one manifest');
  imageId = medium.gzip.config.digest;
}

function quietly(argv: string[]): void {
  try {
    execFileSync(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
  } catch {
    // absent already
  }
}

/**
 * Removes the image from docker or podman so the pull is cold. `rmi -f NAME` only untags when
 * the engine holds the same image under another name, and the pull then finds every layer
 * ("Already exists"): a run of this scenario that was killed leaves `127.0.0.1:PORT/bench/medium:1`
 * behind under an old registry port. Those names (this scenario's own) are removed too; any
 * other name holding the image stops the scenario rather than time a warm pull.
 */
function coldStart(argv: string[]): void {
  quietly([...argv, 'rmi', '-f', reference]);
  let tags: string[];
  try {
    const out = execFileSync(
      argv[0] as string,
      [...argv.slice(1), 'image', 'inspect', '--format', '{{json .RepoTags}}', imageId],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    tags = (JSON.parse(out) as string[] | null) ?? [];
  } catch {
    return; // absent: cold
  }
  for (const t of tags) if (/^[^/]+\/bench\/medium:1$/.test(t)) quietly([...argv, 'rmi', t]);
  quietly([...argv, 'rmi', imageId]);
  try {
    execFileSync(argv[0] as string, [...argv.slice(1), 'image', 'inspect', imageId], { stdio: 'ignore' });
  } catch {
    return;
  }
  throw new Error(
    `pull-medium: ${argv[0]} still holds the medium image ${imageId} (tags: ${tags.join(', ') || 'none'}); a pull would not be cold`,
  );
}

function step(ctx: BenchContext, engine: EngineName): Step {
  if (engine === 'berth') {
    if (lastRoot) quietly(['rm', '-rf', lastRoot]);
    lastRoot = join(ctx.scratch, `berth-root-${runNo++}`);
    return { argv: [...ctx.berth, 'pull', '-q', reference], env: { BERTH_ROOT: lastRoot } };
  }
  if (engine === 'docker') {
    coldStart(ctx.docker!);
    return { argv: [...ctx.docker!, 'pull', '-q', reference] };
  }
  coldStart(ctx.podman!);
  return { argv: [...ctx.podman!, 'pull', '-q', '--tls-verify=false', reference] };
}

export const pullMedium: Scenario = {
  name: 'pull-medium',
  description: 'cold pull of the medium fixture (5 layers, ~150 MB) from a local registry',
  engines: ['berth', 'docker', 'podman'],
  target: 'berth/docker <= 0.5',
  setup: () => shared(),
  step,
  async teardown(ctx, engine) {
    if (engine === 'berth' && lastRoot) quietly(['rm', '-rf', lastRoot]);
    if (engine === 'docker') quietly([...ctx.docker!, 'rmi', '-f', reference]);
    if (engine === 'podman') quietly([...ctx.podman!, 'rmi', '-f', reference]);
    if (--users === 0) {
      await registry?.stop();
      registry = undefined;
    }
  },
};
