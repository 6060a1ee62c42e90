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
}

function quietly(argv: string[]): void {
  try {
    execFileSync(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
  } catch {
    // absent already
  }
}

function step(ctx: BenchContext, engine: EngineName): Step {
  if (engine === 'berth') {
    if (lastRoot) quietly(['rm', '-rf', lastRoot]);
    lastRoot = join(ctx.scratch, `berth-root-${runNo++}`);
    return { argv: [...ctx.berth, 'pull', '-q', reference], env: { BERTH_ROOT: lastRoot } };
  }
  if (engine === 'docker') {
    quietly([...ctx.docker!, 'rmi', '-f', reference]);
    return { argv: [...ctx.docker!, 'pull', '-q', reference] };
  }
  quietly([...ctx.podman!, 'rmi', '-f', reference]);
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
