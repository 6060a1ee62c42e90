/**
 * Which native addons a command loads, seen from inside the process: a `--require` hook logs
 * every `process.dlopen` (how Node loads any `.node` file). `berth version` and `berth images`
 * load none (the flock/mount addon and the runtime's modules come on the first lock); `berth
 * run` from the CLI bundle finds `@berth/runtime`'s own build of the flock/mount addon.
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
`,
  );
}, 240_000);

afterAll(() => cli.dispose());

/** Runs `berth ARGS` with the hook; its result and the addons it loaded. */
async function loads(name: string, ...args: string[]) {
  const log = join(cli.root, `dlopen-${name}.log`);
  await writeFile(log, '');
  // as a user runs it: without the NODE_PATH pnpm's bin shims give the test runner, through
  // which any workspace package resolves
  const env: NodeJS.ProcessEnv = { ...process.env, ...cli.vars, BERTH_TEST_DLOPEN_LOG: log };
  delete env.NODE_PATH;
  const r = await finish(
    spawn(process.execPath, ['--require', hook, cli.bin, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  return { ...r, addons: (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '') };
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
