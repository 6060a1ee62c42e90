/**
 * Docker's default seccomp profile against the real kernel: buildSpec puts it in the spec, the
 * runtime compiles it, berth-shim loads it, and a static probe inside a busybox container calls
 * the syscalls the profile decides on and prints each errno.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../runtime.js';
import { type BuildSpecOptions, buildSpec } from '../spec.js';
import { makeBusyboxRootfs } from '../testing/busybox-bundle.js';
import { buildShim } from '../testing/shim-build.js';
import { parseSeccompProfile } from './profile.js';

const PROBE_SRC = fileURLToPath(new URL('../../testdata/seccomp/probe.c', import.meta.url));
const PROBES = [
  'getpid',
  'unshare_user',
  'unshare_ns',
  'setns',
  'mount',
  'ptrace_traceme',
  'personality_query',
  'personality_linux',
  'personality_norandom',
  'socket_unix',
  'socket_vsock',
  'clone_fork',
  'clone_newuser',
  'clone3',
  'keyctl',
  'mkdir',
];

let shim: string;
let probe: string;
let tmp: string;
let rt: Runtime;
let n = 0;

beforeAll(() => {
  shim = buildShim();
  const dir = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-probe-`));
  probe = join(dir, 'probe');
  execFileSync('cc', ['-static', '-O2', '-Wall', '-o', probe, PROBE_SRC], { stdio: 'inherit' });
  return () => rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
  rt = createRuntime({ root: join(tmp, 'state'), shim });
});
afterEach(async () => {
  await rt.delete('c', { force: true }).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs `cmd` in a busybox container built by buildSpec with `opts`; returns exit code and output. */
async function run(cmd: string[], opts: BuildSpecOptions = {}): Promise<{ code: number; out: string }> {
  const dir = join(tmp, `bundle${n++}`);
  const rootfs = makeBusyboxRootfs(dir);
  copyFileSync(probe, join(rootfs, 'bin/probe'));
  chmodSync(join(rootfs, 'bin/probe'), 0o755);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(buildSpec({ Cmd: cmd }, opts)));
  await rt.create('c', dir);
  await rt.start('c');
  const { exitCode } = await rt.wait('c');
  const out = readFileSync((await rt.state('c')).logPath!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { log: string }).log)
    .join('');
  await rt.delete('c');
  return { code: exitCode, out };
}

async function probes(opts: BuildSpecOptions = {}): Promise<Record<string, number>> {
  const { code, out } = await run(['/bin/probe', ...PROBES], opts);
  expect(code).toBe(0);
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string])
      .map(([k, v]) => [k, Number(v)]),
  );
}

const EPERM = 1;
const EBADF = 9;
const EINVAL = 22;
const ENOSYS = 38;

describe("docker's default seccomp profile in a real container", () => {
  it('is loaded (Seccomp: 2, one filter)', async () => {
    const { out } = await run(['grep', '-E', '^Seccomp(_filters)?:', '/proc/self/status']);
    expect(out).toContain('Seccomp:\t2');
    expect(out).toContain('Seccomp_filters:\t1');
  });

  it('denies namespaces, mount, keyctl, AF_VSOCK and odd personalities; allows the rest', async () => {
    const r = await probes();
    expect(r).toEqual({
      getpid: 0,
      unshare_user: EPERM,
      unshare_ns: EPERM,
      setns: EPERM,
      mount: EPERM,
      ptrace_traceme: 0, // allowed on kernels >= 4.8 by the profile
      personality_query: 0,
      personality_linux: 0,
      personality_norandom: EPERM,
      socket_unix: 0,
      socket_vsock: EPERM,
      clone_fork: 0,
      clone_newuser: EPERM,
      clone3: ENOSYS, // so libcs fall back to clone, whose flags the profile can check
      keyctl: EPERM,
      mkdir: 0,
    });
  });

  it('busybox unshare -U fails with EPERM, ordinary commands work', async () => {
    const u = await run(['sh', '-c', 'unshare -U true; echo rc=$?']);
    expect(u.out).toMatch(/Operation not permitted/);
    expect(u.out).toContain('rc=1');
    const ok = await run(['sh', '-c', 'mkdir /tmp/a && echo hi > /tmp/a/f && cat /tmp/a/f && ls / | wc -l']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^hi\n\d+\n$/);
  });

  it('CAP_SYS_ADMIN opens what the profile ties to it', async () => {
    const r = await probes({ capAdd: ['SYS_ADMIN'] });
    expect(r.unshare_ns).toBe(0);
    expect(r.setns).toBe(EBADF); // reaches the kernel, which refuses fd -1
    expect(r.clone3).toBe(EINVAL); // the kernel's answer to a NULL clone_args
    expect(r.personality_norandom).toBe(EPERM); // not a capability rule
  });

  it('seccomp=unconfined: the kernel decides', async () => {
    const { out } = await run(['grep', '^Seccomp:', '/proc/self/status'], { seccomp: 'unconfined' });
    expect(out).toBe('Seccomp:\t0\n');
    const r = await probes({ seccomp: 'unconfined' });
    expect(r.setns).toBe(EBADF);
    expect(r.keyctl).not.toBe(EPERM);
    expect(r.personality_norandom).toBe(0);
    expect(r.clone3).toBe(EINVAL);
    expect(r.socket_vsock).not.toBe(EPERM);
    expect(r.mount).toBe(EPERM); // still no CAP_SYS_ADMIN
    expect(r.unshare_ns).toBe(EPERM);
    expect(r.mkdir).toBe(0);
  });

  it('a custom profile (docker JSON) denying mkdir makes mkdir fail with its errno', async () => {
    const { profile } = parseSeccompProfile(
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      }),
    );
    const r = await probes({ seccomp: profile });
    expect(r.mkdir).toBe(13);
    expect(r.setns).toBe(EBADF); // nothing else is filtered
    expect(r.clone3).toBe(EINVAL);
    const b = await run(['sh', '-c', 'mkdir /tmp/x; echo rc=$?'], { seccomp: profile });
    expect(b.out).toMatch(/Permission denied/);
    expect(b.out).toContain('rc=1');
  });
});
