import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';

const undiciCli = fileURLToPath(new URL('./undici-cli.cjs', import.meta.url));

// The demo CLI is two files. dist/cli.cjs is the CLI as one self-contained CommonJS bundle:
// bundling undici and @berth/oci into it spares a short-lived process ~150 ms of module
// resolution and loading (measured on Node 20), which the pull-layout benchmark times; and only
// the undici modules the client uses go in (undici-cli.cjs). dist/cli.js (src/cli-loader.ts,
// node built-ins only) runs the bundle through a V8 code cache. The library entry
// (dist/index.js) stays unbundled and is built by the shared tools/tsup.config.ts; these options
// mirror it (packages may not import tools/, so it is not imported here).
const common: Options = {
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: false,
  dts: false,
  splitting: false,
};

export default defineConfig([
  { ...common, entry: { cli: 'src/cli-loader.ts' }, format: ['esm'] },
  {
    ...common,
    entry: { cli: 'src/cli.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    noExternal: [/.*/],
    esbuildOptions(options) {
      options.conditions = ['@berth/source', 'require', 'module', 'default'];
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
  },
]);
