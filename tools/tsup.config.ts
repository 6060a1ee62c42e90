import { defineConfig, type Options } from 'tsup';

/**
 * The one build config every package and app uses (STYLE.md, Build). A package's `build`
 * script is `tsup --config ../../tools/tsup.config.ts`; entries default to `src/index.ts`.
 * Declarations are built against the dependencies' built `dist/*.d.ts` (no source condition),
 * so a package's .d.ts never inlines a sibling's types.
 */
export const baseConfig: Options = {
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { compilerOptions: { customConditions: [] } },
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
};

export default defineConfig((overrides) => ({ ...baseConfig, ...overrides }));
