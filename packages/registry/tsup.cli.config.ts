import { defineConfig } from 'tsup';

// The demo CLI (dist/cli.js) is one self-contained file: bundling undici and @berth/oci into it
// spares a short-lived process ~150 ms of module resolution and loading (measured on Node 20),
// which the pull-layout benchmark times. The library entry (dist/index.js) stays unbundled and
// is built by the shared tools/tsup.config.ts; these options mirror it (packages may not import
// tools/, so it is not imported here).
export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: false,
  dts: false,
  splitting: false,
  noExternal: [/.*/],
  esbuildOptions(options) {
    options.conditions = ['@berth/source'];
  },
  // undici is CommonJS: give the ESM bundle a real `require` for its node: built-ins.
  banner: {
    js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);",
  },
});
