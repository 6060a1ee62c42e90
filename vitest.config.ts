import { defineConfig } from 'vitest/config';

// Two projects from one config (STYLE.md, Testing): `unit` runs as any user with no kernel
// features; `int` needs root, mounts, namespaces, cgroups or the registry and runs in forks.
// Workspace packages resolve to their TypeScript source, so tests need no build. Vitest runs
// tests in its server-side (SSR) environment, which takes conditions from `ssr.resolve`.
const resolve = { conditions: ['@berth/source'] };
const ssr = { resolve: { conditions: ['@berth/source'] } };
const include = ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts'];

export default defineConfig({
  test: {
    // stopping a dockerd that the int setup started can take longer than vitest's default 10 s
    teardownTimeout: 60_000,
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: 'unit',
          include,
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'int',
          include: include.map((p) => p.replace('*.test.ts', '*.int.test.ts')),
          exclude: ['**/node_modules/**'],
          pool: 'forks',
          globalSetup: ['tools/testing/int-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
