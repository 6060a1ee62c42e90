#!/usr/bin/env node
/**
 * The `berth` binary (dist/berth.js): loads the whole CLI (dist/berth.cjs, one CommonJS bundle)
 * through a V8 code cache. Node 20 has no compile cache for modules (module.enableCompileCache
 * is Node 22), and parsing and compiling ~2 MB of bundled JavaScript was a third of the CPU of a
 * `berth run`. `vm.Script` takes `cachedData`: after a command that compiled without a usable
 * cache, the compiled code (with every function that command ran) is written to
 * `berth.cjs.<command>.v8cache` beside the bundle, so the next `berth run` skips parsing and
 * lazy compilation of the functions it needs. The first run of a command often does work the
 * next ones skip (`run` pulls the image, or compiles the seccomp program in a new state root),
 * and every function it compiled would be deserialised by every later run: so that run only
 * leaves the cache file empty, and the next run without a cache writes it. V8 refuses a cache
 * made by another Node or for other source (`cachedDataRejected`): it is then emptied, and
 * rewritten by the run after. A cache that cannot be written (read-only install) is simply not
 * used. Files are written temp-then-rename, so parallel first runs never read half a cache.
 */
import { isAscii } from 'node:buffer';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, Script } from 'node:vm';

const bundle = fileURLToPath(new URL('./berth.cjs', import.meta.url));
// one cache per top-level command: each holds the functions its command runs
const command = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? '';
const cacheFile = `${bundle}.${/^[a-z][a-z0-9-]{0,31}$/.test(command) ? command : 'default'}.v8cache`;

// undefined: no cache file; empty: a run has been that compiled without one (see above)
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// The bundle is built ASCII-only (esbuild's `charset: 'ascii'`), and ASCII read as latin1 is the
// same text: ~1 ms for 1.5 MB, where UTF-8 decoding takes 5-20 ms. Anything else decodes as UTF-8.
// The file is already CommonJS's function (Module.wrap's, written at build time: tsup.config.ts),
// so its text is compiled as read, never copied into a wrapper.
const bytes = readFileSync(bundle);
const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
const script = new Script(source, {
  filename: bundle,
  ...(cachedData?.length ? { cachedData } : {}),
  // the bundle has no import() of its own; a stray one takes Node's default loader
  ...(constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER
    ? { importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }
    : {}),
});
if (!cachedData?.length || script.cachedDataRejected) {
  // a run that found the file empty writes the cache; any other (none yet, or one V8 refused)
  // leaves it empty
  const write = cachedData?.length === 0;
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, write ? script.createCachedData() : '');
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
