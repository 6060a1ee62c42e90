import { execFileSync } from 'node:child_process';
import { defineConfig } from 'tsup';
import { baseConfig } from '../../tools/tsup.config.ts';

// The `berth` binary is two files: dist/berth.cjs, the whole CLI as one CommonJS bundle with
// every dependency inlined (start-up resolves no packages), and dist/berth.js (src/bin.ts), which
// loads it through a V8 code cache so a command neither parses nor compiles what it ran before
// (Node 20 has no module compile cache; CommonJS through vm.Script can take cachedData). The
// bundle's lazily imported modules (registry client, layer unpacker) stay lazily initialised,
// so `berth version` does not run their top-level code.
function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const epoch = process.env.SOURCE_DATE_EPOCH;
const buildTime = epoch ? new Date(Number(epoch) * 1000) : new Date();

const define = {
  __BERTH_GIT_COMMIT__: JSON.stringify(gitCommit()),
  __BERTH_BUILD_TIME__: JSON.stringify(buildTime.toISOString()),
};

export default defineConfig([
  {
    ...baseConfig,
    // the loader: node built-ins only
    entry: { berth: 'src/bin.ts' },
    dts: false,
    clean: false,
  },
  {
    ...baseConfig,
    // @berth/overlay applies each layer on a worker thread, started from `apply-worker.js` beside
    // the module that starts it: here, beside the bundle
    entry: { 'apply-worker': '../../packages/overlay/src/apply-worker.ts' },
    dts: false,
    clean: false,
    noExternal: [/^(?!@napi-rs\/xattr$)/],
    external: ['@napi-rs/xattr'],
    banner: {
      js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);",
    },
    esbuildOptions(options) {
      options.conditions = ['@berth/source', 'import', 'module', 'default'];
    },
    define,
  },
  {
    ...baseConfig,
    entry: { berth: 'src/main.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    dts: false,
    clean: false,
    splitting: false,
    // @napi-rs/xattr is a native addon (a dependency of the CLI); @berth/sys is bundled and
    // finds its addon through the CLI's node_modules
    noExternal: [/^(?!@napi-rs\/xattr$)/],
    external: ['@napi-rs/xattr'],
    esbuildOptions(options) {
      // Bundle sibling packages from source (@berth/source) rather than their built dist.
      options.conditions = ['@berth/source', 'require', 'module', 'default'];
    },
    // modules that find files beside themselves (the shim, the apply worker) do it from the bundle
    banner: { js: "var __berth_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    define: { ...define, 'import.meta.url': '__berth_import_meta_url' },
  },
]);
