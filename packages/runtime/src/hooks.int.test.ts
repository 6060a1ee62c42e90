/**
 * berth-shim's hooks (launch.h `hook.*`) against real namespaces: the exit hook runs once,
 * after the exit file is durable, in the hook's cwd and environment with no descriptor of the
 * shim; the health hook runs on its interval while the container runs and stops with it;
 * `hooks off` (what delete --force sends) stops both.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from './runtime.js';
import { dockerLikeSpec, writeBundle } from './testing/busybox-bundle.js';
import { buildShim } from './testing/shim-build.js';

let shim: string;
let tmp: string;
let rt: Runtime;

beforeAll(() => {
  shim = buildShim();
});
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
  rt = createRuntime({ root: join(tmp, 'state'), shim });
});
afterEach(async () => {
  await rt.delete('c', { force: true }).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

/** A hook script: appends its argument, its cwd, BERTH_X, the exit file and its open fds to a file. */
function hookScript(): string {
  const script = join(tmp, 'hook.sh');
  writeFileSync(
    script,
    `#!/bin/sh\n{ echo "$1 cwd=$(pwd) x=$BERTH_X exit=$(test -f "$2" && echo yes) fds=$(ls /proc/self/fd | wc -l)"; } >> ${join(tmp, 'calls')}\n`,
    { mode: 0o755 },
  );
  return script;
}

const calls = () =>
  existsSync(join(tmp, 'calls')) ? readFileSync(join(tmp, 'calls'), 'utf8').split('\n').filter(Boolean) : [];

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('berth-shim hooks', () => {
  it('runs the exit hook once after the exit is recorded, and the health hook on its interval', async () => {
    const script = hookScript();
    const exitFile = join(tmp, 'state', 'c', 'exit');
    await rt.create('c', writeBundle(join(tmp, 'b'), dockerLikeSpec(['sleep', '1'])), {
      hooks: {
        exit: [script, 'exit', exitFile],
        health: { argv: [script, 'health', exitFile], intervalMs: 200 },
        cwd: tmp,
        env: ['BERTH_X=42', 'PATH=/usr/bin:/bin'],
      },
    });
    // nothing before the start
    await new Promise((r) => setTimeout(r, 400));
    expect(calls()).toEqual([]);
    await rt.start('c');
    await rt.wait('c');
    await until(() => calls().some((l) => l.startsWith('exit ')), 'the exit hook');
    const healthAtExit = calls().filter((l) => l.startsWith('health ')).length;
    await new Promise((r) => setTimeout(r, 600));
    const all = calls();
    const health = all.filter((l) => l.startsWith('health '));
    // a second of running at 200 ms: some probes; after the exit at most the one in flight
    expect(health.length).toBeGreaterThanOrEqual(1);
    expect(health.length).toBeLessThanOrEqual(Math.max(healthAtExit + 1, 6));
    const exits = all.filter((l) => l.startsWith('exit '));
    // stdin, stdout, stderr and the one ls opens itself: nothing of the shim's
    expect(exits).toEqual([`exit cwd=${tmp} x=42 exit=yes fds=4`]);
    expect(health[0]).toBe(`health cwd=${tmp} x=42 exit= fds=4`);
  });

  it('runs no hook after `hooks off` (delete --force) and none for a launch that failed', async () => {
    const script = hookScript();
    await rt.create('c', writeBundle(join(tmp, 'b'), dockerLikeSpec(['sleep', '100'])), {
      hooks: { exit: [script, 'exit'], health: { argv: [script, 'health'], intervalMs: 100_000 } },
    });
    await rt.start('c');
    await rt.delete('c', { force: true });
    await expect(
      rt.create('c', writeBundle(join(tmp, 'b2'), dockerLikeSpec(['/no/such/binary'])), {
        hooks: { exit: [script, 'exit'] },
      }),
    ).rejects.toMatchObject({ code: 'EXEC_NOT_FOUND' });
    await new Promise((r) => setTimeout(r, 500));
    expect(calls()).toEqual([]);
  });
});
