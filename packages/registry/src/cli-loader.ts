#!/usr/bin/env node
/**
 * The demo CLI's entry (dist/cli.cjs, built as CommonJS): loads the CLI itself
 * (dist/cli-bundle.cjs, one CommonJS bundle with undici and @berth/oci inlined) through a V8 code
 * cache, as berth's own CLI does. Node 20 has no compile cache for modules; `vm.Script` takes
 * `cachedData`, so after a run that compiled without a usable cache the compiled code (with every
 * function that run used) is written to `cli-bundle.cjs.<command>.v8cache` beside the bundle and
 * the next run skips parsing and compiling it.
 * V8 refuses a cache made by another Node, other flags or other source (`cachedDataRejected`),
 * and it is then rewritten; one that cannot be written (read-only install) is not used. Files
 * are written temp-then-rename, so parallel first runs never read half a cache.
 *
 * V8 stamps a code cache with a hash of its flags, and refuses a cache whose stamp differs. The
 * CLI sets `--liftoff-only` as it starts (cli.ts), after this loader has checked the cache under
 * the flags node started with; so the flag is undone, with the flags it implies, before the cache
 * is written at exit, or every run would refuse the cache the previous one wrote.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { constants, Script } from 'node:vm';

/** Undoes the CLI's `--liftoff-only`, which also turns off `--wasm-tier-up` and `--wasm-dynamic-tiering`. */
const UNDO_LIFTOFF_ONLY = '--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering';

// built as CommonJS (tsup.cli.config.ts): __dirname is dist/
const bundle = join(__dirname, 'cli-bundle.cjs');
const command = process.argv[2] === 'pull' || process.argv[2] === 'push' ? process.argv[2] : 'default';
const cacheFile = `${bundle}.${command}.v8cache`;

let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// CommonJS's own wrapper (Module.wrap)
const source = `(function (exports, require, module, __filename, __dirname) { ${readFileSync(bundle, 'utf8')}\n});`;
const script = new Script(source, {
  filename: bundle,
  ...(cachedData ? { cachedData } : {}),
  // the bundle has no import() of its own; a stray one takes Node's default loader
  ...(constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER
    ? { importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }
    : {}),
});
if (!cachedData || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      setFlagsFromString(UNDO_LIFTOFF_ONLY);
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // a read-only install runs without a cache
    }
  });
}
const mod = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void).call(
  mod.exports,
  mod.exports,
  createRequire(bundle),
  mod,
  bundle,
  dirname(bundle),
);
