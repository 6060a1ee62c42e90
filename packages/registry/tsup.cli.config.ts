import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

const undiciCli = fileURLToPath(new URL('./undici-cli.cjs', import.meta.url));

// The demo CLI (dist/cli.js) is one self-contained file: bundling undici and @berth/oci into it
// spares a short-lived process ~150 ms of module resolution and loading (measured on Node 20),
// which the pull-layout benchmark times; and only the undici modules the client uses go in
// (undici-cli.cjs). The library entry (dist/index.js) stays unbundled and
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
  // `undici` itself (not its subpaths) resolves to the few modules the client uses.
  esbuildPlugins: [
    {
      name: 'undici-cli',
      setup(build) {
        build.onResolve({ filter: /^undici$/ }, () => ({ path: undiciCli }));
      },
    },
  ],
  // undici is CommonJS: give the ESM bundle a real `require` for its node: built-ins.
  banner: {
    js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);",
  },
});
