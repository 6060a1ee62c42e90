import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';

const undiciCli = fileURLToPath(new URL('./undici-cli.cjs', import.meta.url));
// undici's llhttp SIMD module as a file (cli-shims/llhttp-wasm.cjs says why)
const llhttpShim = fileURLToPath(new URL('./cli-shims/llhttp-wasm.cjs', import.meta.url));
const llhttpSimd = createRequire(import.meta.url)('undici/lib/llhttp/llhttp_simd-wasm.js') as Buffer;
// Three rarely needed built-ins load on first use in the bundle (cli-shims/lazy.cjs says why).
const shims = Object.fromEntries(
  ['http2', 'tls', 'child_process'].flatMap((name) => {
    const path = fileURLToPath(new URL(`./cli-shims/${name}.cjs`, import.meta.url));
    return [
      [name, path],
      [`node:${name}`, path],
    ];
  }),
);

// The demo CLI is three files. dist/cli-bundle.cjs is the CLI as one self-contained CommonJS
// bundle: bundling undici and @berth/oci into it spares a short-lived process ~150 ms of module
// resolution and loading (measured on Node 20), which the pull-layout benchmark times; and only
// the undici modules the client uses go in (undici-cli.cjs). dist/cli.cjs (src/cli-loader.ts,
// node built-ins only, CommonJS: Node's ES module loader costs ~6 ms more at start) runs the
// bundle through a V8 code cache. dist/berth-registry-demo (src/cli.sh) is the bin. The library entry
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
  {
    ...common,
    entry: { cli: 'src/cli-loader.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    // the bin: a sh launcher that keeps NODE_EXTRA_CA_CERTS from node's start (src/cli.sh)
    onSuccess: async () => {
      mkdirSync('dist', { recursive: true });
      copyFileSync('src/cli.sh', 'dist/berth-registry-demo');
      chmodSync('dist/berth-registry-demo', 0o755);
    },
  },
  {
    ...common,
    entry: { 'cli-bundle': 'src/cli.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    noExternal: [/.*/],
    onSuccess: async () => {
      mkdirSync('dist', { recursive: true });
      writeFileSync('dist/llhttp_simd.wasm', llhttpSimd);
    },
    esbuildOptions(options) {
      options.conditions = ['@berth/source', 'require', 'module', 'default'];
    },
    // tsup would rewrite `node:` built-ins to external bare names before the plugin below sees them
    removeNodeProtocol: false,
    // `undici` itself (not its subpaths) resolves to the few modules the client uses.
    esbuildPlugins: [
      {
        name: 'undici-cli',
        setup(build) {
          build.onResolve({ filter: /^undici$/ }, () => ({ path: undiciCli }));
          build.onResolve({ filter: /llhttp_simd-wasm\.js$/ }, () => ({ path: llhttpShim }));
          build.onResolve({ filter: /^(node:)?(http2|tls|child_process)$/ }, (args) => ({
            path: shims[args.path]!,
          }));
        },
      },
    ],
  },
]);
