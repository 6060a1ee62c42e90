import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';
import { baseConfig } from '../../tools/tsup.config.ts';

// The `berth` binary is two files: dist/berth.cjs, the whole CLI as one CommonJS bundle with
// every dependency inlined (start-up resolves no packages), and dist/berth.js (src/bin.ts), which
// loads it through a V8 code cache so a command neither parses nor compiles what it ran before
// (Node 20 has no module compile cache; CommonJS through vm.Script can take cachedData). The
// bundle's lazily imported modules (registry client, layer unpacker) stay lazily initialised,
// so `berth version` does not run their top-level code, and the bundle requires each Node
// built-in inside the module that uses it (rollup's tree-shaking pass, `treeshake`, would hoist
// every require to the top: `berth version` loaded tls, zlib, worker_threads and the xattr addon).
// Every file in dist/ is CommonJS (dist/package.json says so): an ES module entry would start
// Node's ESM loader, ~20 ms of CPU per command before any of berth's code runs.
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

// undici (the registry client's HTTP stack, ~730 kB: half the bundle) is a file of its own beside
// the bundle, dist/undici.cjs, required by the registry's transport on its first request. Every
// command reads, checks and copies the whole bundle into a V8 string before running (~1.5 ms per
// MB), and only pull, push, login and a build's pulls use undici.
const undiciMain = createRequire(resolve('../../packages/registry/package.json')).resolve('undici');
const undiciBeside: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'undici-beside',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: './undici.cjs', external: true }));
  },
};

// Node built-ins the bundle loads on first call rather than at start-up. esbuild turns each
// `import { x } from 'node:M'` into a `require("M")` run when the importing module initialises,
// and `berth run` initialises the whole engine: fs/promises alone brings fs.Dir, the file
// watchers and readline (~1 ms of CPU per command), although the run path calls none of it.
// Each module listed here is replaced, in the bundle only, by a module of functions of the same
// names that require the real one on their first call and hand the call on. Only functions can
// stand in this way: a module's other exports are left out, so importing one is a build error
// ("No matching export"), except fs/promises' `constants`, which is node:fs's own object. (The
// packages' ES module builds gain nothing from this: importing `node:fs` into an ES module
// loads fs/promises anyway.) node:crypto is one too: `run` hashes and draws through @berth/oci's
// crypto provider (the runtime addon), and berth calls crypto's functions, never its classes.
const lazyBuiltins = ['fs/promises', 'stream/consumers', 'stream/promises', 'timers/promises', 'crypto'];
const lazyBuiltinsPlugin: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'lazy-builtins',
  setup(build) {
    const filter = new RegExp(`^(node:)?(${lazyBuiltins.join('|')})$`);
    build.onResolve({ filter }, (args) =>
      // the stand-in's own require of the module is the real built-in
      args.namespace === 'lazy-builtin'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const real: Record<string, unknown> = createRequire(import.meta.url)(`node:${args.path}`);
      const names = Object.keys(real).filter((k) => typeof real[k] === 'function');
      return {
        loader: 'js',
        contents: [
          "import { constants } from 'node:fs';",
          'let m;',
          `const real = () => (m ??= require('node:${args.path}'));`,
          ...names.map((k) => `export function ${k}(...a) { return real().${k}(...a); }`),
          ...(args.path === 'fs/promises' ? ['export { constants };'] : []),
        ].join('\n'),
      };
    });
  },
};

// modules that find files beside themselves (the shim, the apply worker, the bundle) do it from
// the CommonJS file they are in
const metaUrlLine = "var __berth_import_meta_url = require('node:url').pathToFileURL(__filename).href;";
const metaUrl = {
  banner: { js: `'use strict';\n${metaUrlLine}` },
  define: { ...define, 'import.meta.url': '__berth_import_meta_url' },
};

// dist/berth.cjs is the function CommonJS would wrap the bundle in (Module.wrap's), written out:
// dist/berth.js compiles the file's text as it is. Wrapping it at start took a second copy of the
// 0.8 MB text (a concatenation V8 flattens before it compiles), and with it one more scavenge of
// the young generation, on every command.
const wrapped = {
  banner: {
    js: `(function (exports, require, module, __filename, __dirname) { 'use strict';\n${metaUrlLine}`,
  },
  footer: { js: '});' },
  define: metaUrl.define,
};

export default defineConfig((overrides) => [
  {
    ...baseConfig,
    // the loader: node built-ins only
    entry: { berth: 'src/bin.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.js' }),
    dts: false,
    clean: false,
    ...metaUrl,
    // dist/ is CommonJS whatever the package's "type" says (see above)
    async onSuccess() {
      const out = overrides.outDir ?? 'dist';
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');
      writeFileSync(join(out, 'apply-worker.js'), "'use strict';\nimport('./apply-worker.mjs');\n");
      // the `berth` bin: a sh launcher that keeps NODE_EXTRA_CA_CERTS from node (src/berth.sh)
      copyFileSync('src/berth.sh', join(out, 'berth'));
      chmodSync(join(out, 'berth'), 0o755);
    },
  },
  {
    ...baseConfig,
    // @berth/overlay applies each layer on a worker thread, started from `apply-worker.js` beside
    // the module that starts it: here, beside the bundle. The worker is an ES module (it awaits at
    // top level), so `apply-worker.js` (written below) imports `apply-worker.mjs`.
    entry: { 'apply-worker': '../../packages/overlay/src/apply-worker.ts' },
    outExtension: () => ({ js: '.mjs' }),
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
    // undici alone (see undiciBeside), required from the bundle as ./undici.cjs
    entry: { undici: undiciMain },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    dts: false,
    clean: false,
    splitting: false,
    treeshake: false,
    noExternal: [/.*/],
    esbuildOptions(options) {
      options.charset = 'ascii';
      options.minifyWhitespace = true;
      options.minifySyntax = true;
      options.legalComments = 'external';
    },
  },
  {
    ...baseConfig,
    entry: { berth: 'src/main.ts' },
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    // tsup's own resolver would mark every `node:` import external before lazyBuiltinsPlugin sees it
    removeNodeProtocol: false,
    esbuildPlugins: [undiciBeside, lazyBuiltinsPlugin],
    dts: false,
    clean: false,
    splitting: false,
    treeshake: false,
    // @napi-rs/xattr is a native addon (a dependency of the CLI); @berth/runtime is bundled (the
    // engine imports it) and finds its flock/mount addon, native/build/berth-sys.node, through
    // the CLI's node_modules: the CLI depends on @berth/runtime for that build, imports nothing
    // of it (DESIGN.md's arrows), as it depends on @napi-rs/xattr for @berth/overlay
    noExternal: [/^(?!@napi-rs\/xattr$)/],
    external: ['@napi-rs/xattr'],
    esbuildOptions(options) {
      // Bundle sibling packages from source (@berth/source) rather than their built dist.
      options.conditions = ['@berth/source', 'require', 'module', 'default'];
      // ASCII only (other characters escaped) and no comments or indentation: V8 keeps the
      // source as a one-byte string, and reads, hashes and lazily parses half the bytes
      options.charset = 'ascii';
      options.minifyWhitespace = true;
      options.minifySyntax = true;
      // licence texts go to berth.cjs.LEGAL.txt beside the bundle
      options.legalComments = 'external';
    },
    ...wrapped,
  },
]);
