import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Spec } from '@berth/oci';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { locateInit, withInit } from './init.js';
import { createRuntime, type Runtime } from './runtime.js';
import { dockerLikeSpec, writeBundle } from './testing/busybox-bundle.js';
import { buildShim } from './testing/shim-build.js';

let shim: string;
let init: string;
let tmp: string;
let rt: Runtime;
let n = 0;

beforeAll(async () => {
  shim = buildShim(); // make builds berth-init too
  init = await locateInit();
});
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
  rt = createRuntime({ root: join(tmp, 'state'), shim });
});
afterEach(async () => {
  await rt.delete('c', { force: true }).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

async function start(args: string[], opts: { init: boolean }, patch?: (s: Spec) => void): Promise<void> {
  let spec = dockerLikeSpec(args, patch);
  if (opts.init) spec = withInit(spec, { initPath: init });
  await rt.create('c', writeBundle(join(tmp, `bundle${n++}`), spec));
  await rt.start('c');
}

async function exec(args: string[]): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString();
  });
  await rt.exec('c', { args, stdout: out });
  return text;
}

/** Makes orphans: each subshell starts `sleep 0.1` and exits, so sleep is reparented to PID 1. */
const ORPHANS = 'for i in 1 2 3; do (sleep 0.1 &); done';

const ZOMBIE = /^\s*\d+\s+Z/m;

/**
 * Polls ps until no process is still sleeping in `sleep 0.1` and, with `reaped`, until no zombie
 * is left either (a PID 1 that reaps may run a moment after its orphans exit on a loaded
 * machine); a deadline of ~10 s, not a timing check.
 */
async function psAfterOrphans(reaped: boolean): Promise<string> {
  for (let i = 0; ; i++) {
    const ps = await exec(['ps', '-o', 'pid,stat,comm,args']);
    if ((!/sleep 0\.1/.test(ps) && !(reaped && ZOMBIE.test(ps))) || i > 100) return ps;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('--init (berth-init as PID 1)', () => {
  it('reaps orphaned zombies; without it they stay Z under a PID 1 that does not reap', async () => {
    await start(['sleep', '1000'], { init: true });
    expect(await exec(['cat', '/proc/1/cmdline'])).toBe('/sbin/docker-init\0--\0sleep\x001000\0');
    await exec(['sh', '-c', ORPHANS]);
    const withInitPs = await psAfterOrphans(true);
    expect(withInitPs).not.toMatch(ZOMBIE);
    await rt.delete('c', { force: true });

    await start(['sleep', '1000'], { init: false });
    await exec(['sh', '-c', ORPHANS]);
    const bare = await psAfterOrphans(false);
    expect(bare.match(/^\s*\d+\s+Z\s+sleep/gm)).toHaveLength(3);
  });

  it('forwards SIGTERM to the child and exits with its status (143)', async () => {
    await start(['sleep', '1000'], { init: true });
    await rt.kill('c', 'SIGTERM');
    const exit = await rt.wait('c');
    expect(exit.exitCode).toBe(143);
  });

  it('starts blocking every signal, so none sent right after start is lost; the command blocks none', async () => {
    // berth-shim execs berth-init with all signals blocked (a PID 1 drops a signal it has no
    // handler for): a SIGTERM sent the moment start returns is held, then forwarded
    for (let i = 0; i < 3; i++) {
      await start(['sleep', '1000'], { init: true });
      await rt.kill('c', 'SIGTERM');
      expect((await rt.wait('c')).exitCode).toBe(143);
      await rt.delete('c');
    }
    await start(['grep', 'SigBlk', '/proc/self/status'], { init: true });
    expect((await rt.wait('c')).exitCode).toBe(0);
    const log = readFileSync((await rt.state('c')).logPath!, 'utf8');
    expect(JSON.parse(log.split('\n')[0]!).log).toMatch(/^SigBlk:\s+0+\n$/);
  });

  it("exits with the child's own exit code, and 127 for a missing command", async () => {
    await start(['sh', '-c', 'exit 7'], { init: true });
    expect((await rt.wait('c')).exitCode).toBe(7);
    await rt.delete('c');
    await start(['no-such-command'], { init: true });
    expect((await rt.wait('c')).exitCode).toBe(127);
  });

  it('is read-only inside the container', async () => {
    await start(['sleep', '1000'], { init: true });
    const out = await exec(['sh', '-c', 'echo x > /sbin/docker-init 2>&1; echo rc=$?']);
    expect(out).toMatch(/rc=[1-9]/);
  });
});
