import { execFileSync } from 'node:child_process';
import { defineConfig } from 'tsup';
import { baseConfig } from '../../tools/tsup.config.ts';

// The `berth` binary: a bundled ESM entry (dist/berth.js) with every dependency inlined, so
// start-up resolves no packages. Code splitting puts each command handler (and what only it
// uses: the engine, undici, tar) in chunks loaded on demand, so `berth version` and
// `berth images` do not parse the registry client or the layer unpacker.
function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const epoch = process.env.SOURCE_DATE_EPOCH;
const buildTime = epoch ? new Date(Number(epoch) * 1000) : new Date();

export default defineConfig({
  ...baseConfig,
  // @berth/overlay applies each layer on a worker thread, started from `apply-worker.js` beside
  // the module that starts it: here, beside the chunks
  entry: { berth: 'src/main.ts', 'apply-worker': '../../packages/overlay/src/apply-worker.ts' },
  dts: false,
  splitting: true,
  noExternal: [/^(?!@napi-rs\/xattr$|@berth\/sys$)/],
  // native addons cannot be inlined; they are dependencies of the CLI. @berth/sys (flock, mount)
  // finds its .node file relative to its own module, so it stays a package import too
  external: ['@napi-rs/xattr', '@berth/sys'],
  // bundled CommonJS dependencies (proper-lockfile, tar-stream…) call require() for built-ins
  banner: {
    js: "import { createRequire as __berthCreateRequire } from 'node:module';\nconst require = __berthCreateRequire(import.meta.url);",
  },
  esbuildOptions(options) {
    // Bundle sibling packages from source (@berth/source) rather than their built dist.
    options.conditions = ['@berth/source', 'import', 'module', 'default'];
  },
  define: {
    __BERTH_GIT_COMMIT__: JSON.stringify(gitCommit()),
    __BERTH_BUILD_TIME__: JSON.stringify(buildTime.toISOString()),
  },
});
