import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixtures, pushFixture, type RegistryHandle, startRegistry } from '@berth/fixtures';
import type { Scenario } from '../scenario.js';

/** The repository root: the nearest parent holding pnpm-workspace.yaml (works from src and dist). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('pull-layout: cannot find the repository root');
    dir = up;
  }
  return dir;
}

let registry: RegistryHandle | undefined;
let reference = '';
let counter = 0;
let previous: string | undefined;

/**
 * `pull-layout`: a cold pull of the ~150 MB `medium` fixture from Debian's docker-registry on
 * loopback into a fresh OCI layout directory: @berth/registry's demo utility as its bin runs
 * (`packages/registry/dist/berth-registry-demo pull REF DIR`, the sh launcher that starts node on
 * dist/cli.cjs) vs `skopeo copy docker://REF oci:DIR:TAG`, both in the harness's environment.
 * Every run writes a new directory (the previous run's is removed before the next starts, outside
 * the timing), so no run finds blobs already present.
 */
export const pullLayout: Scenario = {
  name: 'pull-layout',
  description:
    'cold pull of the medium fixture from a local registry into an OCI layout (berth vs skopeo copy)',
  engines: ['berth', 'skopeo'],
  target: 'berth/skopeo <= 0.8',
  async setup() {
    if (registry) return;
    const cli = join(repoRoot(), 'packages/registry/dist/berth-registry-demo');
    if (!existsSync(cli)) throw new Error(`pull-layout: ${cli} is missing (run pnpm build)`);
    const fixtures = await buildFixtures({ medium: true });
    registry = await startRegistry({ auth: 'none' });
    reference = (await pushFixture(registry, fixtures.images.medium!, 'bench/medium:1')).reference;
  },
  step(ctx, engine) {
    if (previous) rmSync(previous, { recursive: true, force: true });
    previous = join(ctx.scratch, `${engine}-${counter++}`);
    if (engine === 'skopeo') {
      return {
        argv: [
          ...ctx.skopeo!,
          '--insecure-policy',
          'copy',
          '--src-tls-verify=false',
          `docker://${reference}`,
          `oci:${previous}:1`,
        ],
      };
    }
    return {
      argv: [join(repoRoot(), 'packages/registry/dist/berth-registry-demo'), 'pull', reference, previous],
    };
  },
  async teardown() {
    await registry?.stop();
    registry = undefined;
  },
};
