import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { isBerthError, type Spec } from '@berth/oci';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCgroupDriver } from './cgroups/driver.js';
import type { CgroupDriver } from './cgroups/types.js';
import type { ExecOptions } from './exec.js';
import { createRuntime, type Runtime } from './runtime.js';
import { defaultSeccomp } from './seccomp/profile.js';
import { DOCKER_DEFAULT_CAPS, dockerLikeSpec, writeBundle } from './testing/busybox-bundle.js';
import { buildShim } from './testing/shim-build.js';

let shim: string;
let tmp: string;
let rt: Runtime;
let cg: CgroupDriver;
const parent = `/berth-t${process.pid}-exec`;

beforeAll(async () => {
  shim = buildShim();
  tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
  cg = await createCgroupDriver();
  rt = createRuntime({ root: join(tmp, 'state'), shim, cgroups: cg });
  // one long-running container shared by the exec tests: sleep as pid 1, a file it wrote
  const spec = dockerLikeSpec(['sh', '-c', 'echo from-init > /tmp/shared; exec sleep 1000'], (s) => {
    s.linux!.cgroupsPath = `${parent}/c`;
    s.linux!.seccomp = defaultSeccomp({ capabilities: DOCKER_DEFAULT_CAPS });
    s.process!.env = [...(s.process!.env ?? []), 'FROM_IMAGE=1', 'OVERRIDE=image'];
    s.process!.cwd = '/home';
  });
  await rt.create('c', writeBundle(join(tmp, 'bundle'), spec));
  await rt.start('c');
});
afterEach(() => {});
afterAll(async () => {
  await rt.delete('c', { force: true }).catch(() => {});
  await cg.destroy(parent, { force: true }).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

function sink(): { stream: Writable; text: () => string } {
  const s = new PassThrough();
  let t = '';
  s.on('data', (c: Buffer) => {
    t += c.toString();
  });
  return { stream: s, text: () => t };
}

async function exec(args: string[], opts: Partial<ExecOptions> = {}) {
  const out = sink();
  const err = sink();
  const { exitCode } = await rt.exec('c', { args, stdout: out.stream, stderr: err.stream, ...opts });
  return { exitCode, out: out.text(), err: err.text() };
}

describe('exec in a running container (real namespaces)', () => {
  it('shares the pid namespace: pid 1 is the container process', async () => {
    const r = await exec(['ps', '-o', 'pid,comm']);
    expect(r.exitCode).toBe(0);
    expect(r.out).toMatch(/^\s*1\s+sleep$/m);
    const init = await exec(['cat', '/proc/1/cmdline']);
    expect(init.out).toBe('sleep\x001000\x00');
  });

  it('shares the filesystem, hostname, ipc and net namespaces', async () => {
    expect((await exec(['cat', '/tmp/shared'])).out).toBe('from-init\n');
    await exec(['sh', '-c', 'echo from-exec > /tmp/second']);
    expect((await exec(['cat', '/tmp/second'])).out).toBe('from-exec\n');
    expect((await exec(['hostname'])).out).toBe('berth-test\n');
    const st = await rt.state('c');
    const ns = await exec([
      'sh',
      '-c',
      'for f in /proc/1/ns/net /proc/self/ns/net /proc/1/ns/ipc /proc/self/ns/ipc; do readlink $f; done',
    ]);
    const [n1, n2, i1, i2] = ns.out.trim().split('\n');
    expect(n1).toBe(n2);
    expect(i1).toBe(i2);
    expect(st.pid).toBeGreaterThan(1);
  });

  it('joins the container cgroup before it runs', async () => {
    const r = await exec(['cat', '/proc/self/cgroup']);
    // in the container's cgroup namespace (rooted at its cgroup) the container's cgroup is "/"
    const lines = r.out.trim().split('\n');
    const pids = lines.find((l) => /:pids:/.test(l) || /^0::/.test(l));
    expect(pids).toMatch(/:\/$/);
    expect(r.out).not.toContain('/..');
    expect((await exec(['cat', '/proc/1/cgroup'])).out).toBe(r.out);
  });

  it('returns exit codes, and 126/127 as EXEC_PERMISSION_DENIED/EXEC_NOT_FOUND', async () => {
    expect((await exec(['true'])).exitCode).toBe(0);
    expect((await exec(['sh', '-c', 'exit 3'])).exitCode).toBe(3);
    expect((await exec(['sh', '-c', 'kill -TERM $$'])).exitCode).toBe(143);
    try {
      await exec(['no-such-binary']);
      expect.fail('no error');
    } catch (err) {
      expect(isBerthError(err, 'EXEC_NOT_FOUND')).toBe(true);
      expect((err as Error).message).toContain('executable file not found in $PATH');
    }
    try {
      await exec(['/etc/passwd']);
      expect.fail('no error');
    } catch (err) {
      expect(isBerthError(err, 'EXEC_PERMISSION_DENIED')).toBe(true);
    }
    // the container is unharmed
    expect((await rt.state('c')).status).toBe('running');
  });

  it('sets the exec user (by name, from the container passwd), env and cwd', async () => {
    const r = await exec(['sh', '-c', 'id -u; id -g; echo $FROM_IMAGE $OVERRIDE $HOME; pwd'], {
      user: 'app',
      env: ['OVERRIDE=exec'],
      cwd: '/tmp',
    });
    expect(r.out).toBe('1000\n1000\n1 exec /home/app\n/tmp\n');
    const d = await exec(['sh', '-c', 'id -u; pwd']);
    expect(d.out).toBe('0\n/home\n');
    const n = await exec(['id', '-u'], { user: '1234:55' });
    expect(n.out).toBe('1234\n');
    await expect(exec(['true'], { user: 'nobody-here' })).rejects.toSatisfy((e) =>
      isBerthError(e, 'USER_NOT_FOUND'),
    );
  });

  it('has the container capabilities and seccomp filter unless privileged', async () => {
    const caps = await exec(['grep', '-E', '^(CapEff|Seccomp):', '/proc/self/status']);
    expect(caps.out).toContain('CapEff:\t00000000a80425fb');
    expect(caps.out).toMatch(/Seccomp:\t2/);
    expect((await exec(['unshare', '-U', 'true'])).exitCode).not.toBe(0);
    const priv = await exec(['grep', '-E', '^(CapEff|Seccomp):', '/proc/self/status'], { privileged: true });
    // every capability the host grants (this machine's bounding set may lack some)
    const hostEff = /CapEff:\t([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    expect(priv.out).toContain(`CapEff:\t${hostEff}`);
    expect(priv.out).toMatch(/Seccomp:\t0/);
  });

  it('feeds stdin and runs on a terminal of the container devpts', async () => {
    const stdin = new PassThrough();
    const p = exec(['sh', '-c', 'read x; echo got $x'], { stdin });
    stdin.end('line\n');
    expect((await p).out).toBe('got line\n');
    const tty = await exec(['sh', '-c', 'tty; stty size'], {
      tty: true,
      consoleSize: { rows: 33, cols: 99 },
    });
    expect(tty.out).toMatch(/^\/dev\/pts\/\d+\r\n33 99\r\n$/);
  });

  it('resizes an exec terminal once it runs, and an abort stops the process', async () => {
    const stdin = new PassThrough();
    const out = sink();
    const done = rt.exec('c', {
      args: ['sh', '-c', 'read x; stty size'],
      tty: true,
      stdin,
      stdout: out.stream,
      onStarted: ({ resize }) => {
        resize({ rows: 41, cols: 121 }).then(() => stdin.write('\r'));
      },
    });
    expect((await done).exitCode).toBe(0);
    expect(out.text()).toContain('41 121');
    const ac = new AbortController();
    const long = rt.exec('c', {
      args: ['sleep', '999'],
      signal: ac.signal,
      onStarted: () => ac.abort(),
    });
    await expect(long).rejects.toThrow();
    const ps = await exec(['ps', '-o', 'args']);
    expect(ps.out).not.toContain('sleep 999');
  });
});

describe('exec refusals', () => {
  it('refuses a container that is not running', async () => {
    const spec: Spec = dockerLikeSpec(['true']);
    await rt.create('c2', writeBundle(join(tmp, 'bundle2'), spec));
    await expect(rt.exec('c2', { args: ['true'] })).rejects.toSatisfy((e) =>
      isBerthError(e, 'CONTAINER_NOT_RUNNING'),
    );
    await rt.delete('c2', { force: true });
  });
});
