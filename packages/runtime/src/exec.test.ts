import { PassThrough } from 'node:stream';
import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { execLaunch } from './exec.js';
import { encodeLaunch } from './launch-spec.js';
import { dockerLikeSpec } from './testing/busybox-bundle.js';

const spec = dockerLikeSpec(['sleep', '1000'], (s) => {
  s.process!.env = ['PATH=/bin', 'A=1'];
  s.process!.cwd = '/work';
  s.process!.noNewPrivileges = true;
  s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
});
const ctx = { id: 'c.exec-1', pid: 4242, seccomp: new Uint8Array(8) };

describe('execLaunch', () => {
  it('joins every namespace of the container by /proc/<pid>/ns', () => {
    const d = execLaunch(spec, { args: ['ps'] }, ctx);
    expect(d.namespaces).toEqual([
      { type: 'pid', path: '/proc/4242/ns/pid' },
      { type: 'mount', path: '/proc/4242/ns/mnt' },
      { type: 'uts', path: '/proc/4242/ns/uts' },
      { type: 'ipc', path: '/proc/4242/ns/ipc' },
      { type: 'net', path: '/proc/4242/ns/net' },
      { type: 'cgroup', path: '/proc/4242/ns/cgroup' },
    ]);
    expect(d.rootfs).toBeUndefined();
    expect(() => encodeLaunch(d)).not.toThrow();
  });

  it('keeps the container caps, seccomp, no_new_privs, cwd and env; merges the exec env', () => {
    const d = execLaunch(spec, { args: ['ps'], env: ['A=2', 'B=3'] }, ctx);
    expect(d.capabilities?.effective).toEqual(spec.process!.capabilities!.effective);
    expect(d.seccomp).toBe(ctx.seccomp);
    expect(d.noNewPrivileges).toBe(true);
    expect(d.cwd).toBe('/work');
    expect(d.env).toEqual(['PATH=/bin', 'A=2', 'B=3']);
  });

  it('privileged drops the capability lines and the filter', () => {
    const d = execLaunch(spec, { args: ['ps'], privileged: true }, ctx);
    expect(d.capabilities).toBeUndefined();
    expect(d.seccomp).toBeUndefined();
    expect(encodeLaunch(d)).not.toMatch(/^cap\.|^seccomp=/m);
  });

  it('resolves a named user in the container passwd and sets HOME', () => {
    const d = execLaunch(
      spec,
      { args: ['id'], user: 'app' },
      {
        ...ctx,
        files: { passwd: 'app:x:1000:1001:app:/home/app:/bin/sh\n', group: '' },
      },
    );
    expect(d.user).toMatchObject({ uid: 1000, gid: 1001 });
    expect(d.env).toContain('HOME=/home/app');
    expect(() => execLaunch(spec, { args: ['id'], user: 'ghost' }, ctx)).toThrow(
      expect.objectContaining({ code: 'USER_NOT_FOUND' }),
    );
  });

  it('tty: terminal with its size and a control socket; stdin without tty: inherited', () => {
    const t = execLaunch(
      spec,
      { args: ['sh'], tty: true, consoleSize: { rows: 5, cols: 6 } },
      {
        ...ctx,
        controlSocket: '/run/x.sock',
      },
    );
    expect(encodeLaunch(t)).toContain('terminal=1\nterminal.size=5 6\ncontrol_socket=/run/x.sock\n');
    // without tty the shim passes its own stdin (the caller's pipe) straight on
    const s = execLaunch(spec, { args: ['cat'], stdin: new PassThrough() }, ctx);
    expect(encodeLaunch(s)).toMatch(/\nstdio=inherit\n/);
    expect(encodeLaunch(s)).not.toContain('\nstdin=1\n');
  });

  it('refuses no command, bad env, a seccomp section without its program', () => {
    for (const [opts, c] of [
      [{ args: [] }, 'args'],
      [{ args: ['x'], env: ['NOEQUALS'] }, 'env'],
    ] as const) {
      try {
        execLaunch(spec, opts as never, ctx);
        expect.fail('no error');
      } catch (err) {
        expect(isBerthError(err, 'LAUNCH_INVALID')).toBe(true);
        expect((err as { input?: { field: string } }).input).toEqual({ field: c });
      }
    }
    expect(() => execLaunch(spec, { args: ['x'] }, { id: 'e', pid: 5 })).toThrow(/seccomp/);
  });
});
