/**
 * Which native addons and Node built-ins a command loads, seen from inside the process: a
 * `--require` hook logs every `process.dlopen` (how Node loads any `.node` file) and, at exit,
 * `process.moduleLoadList`. `berth version` and `berth images` load no addon (the flock/mount
 * addon and the runtime's modules come on the first lock); `berth run` from the CLI bundle finds
 * `@berth/runtime`'s own build of the flock/mount addon, and loads none of the built-ins its run
 * path never calls (the bundle's stand-ins for them: apps/cli/tsup.config.ts, lazyBuiltins), and no
 * node:crypto (the engine's crypto provider hashes and draws through the runtime's addon).
 */
import { spawn } from 'node:child_process';
import { readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliDir, cliHarness, finish } from './testing/cli-harness.js';

const cli = cliHarness('bnl');
let hook = '';

beforeAll(async () => {
  await cli.setup();
  await cli.loadBusybox();
  hook = join(cli.root, 'dlopen-hook.cjs');
  await writeFile(
    hook,
    `const { appendFileSync } = require('node:fs');
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  appendFileSync(process.env.BERTH_TEST_DLOPEN_LOG, filename + '\\n');
  return dlopen.call(this, module, filename, ...rest);
};
process.on('exit', () => appendFileSync(process.env.BERTH_TEST_MODULES_LOG, process.moduleLoadList.join('\\n')));
`,
  );
}, 240_000);

afterAll(() => cli.dispose());

/**
 * Runs `berth ARGS` with the hook; its result, the addons and the built-ins it loaded. Standard
 * output is a pipe, or /dev/null with `quiet` (as `berth run -d … >/dev/null` in a script).
 */
async function loads(name: string, ...args: string[]) {
  return loadsWith({}, name, ...args);
}

async function loadsWith(o: { quiet?: boolean }, name: string, ...args: string[]) {
  const log = join(cli.root, `dlopen-${name}.log`);
  const modules = join(cli.root, `modules-${name}.log`);
  await writeFile(log, '');
  await writeFile(modules, '');
  // as a user runs it: without the NODE_PATH pnpm's bin shims give the test runner, through
  // which any workspace package resolves
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...cli.vars,
    BERTH_TEST_DLOPEN_LOG: log,
    BERTH_TEST_MODULES_LOG: modules,
  };
  delete env.NODE_PATH;
  const r = await finish(
    spawn(process.execPath, ['--require', hook, cli.bin, ...args], {
      env,
      stdio: ['ignore', o.quiet ? 'ignore' : 'pipe', 'pipe'],
    }),
  );
  const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  return { ...r, addons: await lines(log), modules: await lines(modules) };
}

describe('native addons the CLI loads', () => {
  it('berth version and berth images load none', async () => {
    const version = await loads('version', 'version');
    expect(version.code).toBe(0);
    expect(version.addons).toEqual([]);
    const images = await loads('images', 'images');
    expect(images.code).toBe(0);
    expect(images.stdout).toContain('busybox');
    expect(images.addons).toEqual([]);
  });

  it("berth run loads @berth/runtime's flock/mount addon from the runtime's build", async () => {
    const run = await loads('run', 'run', '--rm', 'busybox', 'echo', 'hi');
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('hi\n');
    expect(run.code).toBe(0);
    const addon = await realpath(join(cliDir, '../../packages/runtime/native/build/berth-sys.node'));
    expect(run.addons).toContain(addon);
    expect(run.addons.every((a) => a === addon)).toBe(true);
  });
});

describe('Node built-ins berth run loads', () => {
  // fs/promises brings fs.Dir, the file watchers and readline; the run path calls none of these
  const unused = [
    'NativeModule fs/promises',
    'NativeModule internal/fs/dir',
    'NativeModule internal/readline/interface',
    'NativeModule stream/consumers',
    'NativeModule timers/promises',
    // standard output on /dev/null is written with write(2) (src/io.ts), as a pipe or a file
    'NativeModule internal/fs/sync_write_stream',
    // hashes and random IDs come from the runtime addon (@berth/engine's crypto provider)
    'NativeModule crypto',
    'NativeModule internal/crypto/hash',
    'NativeModule internal/crypto/random',
  ];

  it("run -d with its output to /dev/null loads none of the run path's unused built-ins", async () => {
    const run = await loadsWith({ quiet: true }, 'run-d', 'run', '-d', 'busybox', 'sleep', '100');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // the hook saw the whole run: the bundle's own modules are there
    expect(run.modules).toContain('NativeModule vm');
    expect(run.modules.filter((m) => unused.includes(m))).toEqual([]);
    await cli.removeContainers();
  });

  it('run --rm loads none of them either', async () => {
    const run = await loads('run-rm', 'run', '--rm', 'busybox', 'echo', 'hi');
    expect(run.stdout).toBe('hi\n');
    expect(run.code).toBe(0);
    expect(run.modules).toContain('NativeModule vm');
    expect(run.modules.filter((m) => unused.includes(m))).toEqual([]);
  });
});
