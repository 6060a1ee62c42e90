/**
 * The bundle berth writes (config.json from buildSpec) runs unchanged under runc and crun, and
 * each container observes the same things from inside as under berth-shim.
 *
 * crun 1.8 (Debian 12) refuses this machine's hybrid cgroups ("cgroups in hybrid mode not
 * supported, drop all controllers from cgroupv2"), and `--cgroup-manager=disabled` does not
 * help (the check comes first); a tmpfs over /sys/fs/cgroup/unified makes it fail to create
 * its v2 directory. What works is a private mount namespace in which the v2 mount is gone:
 * `unshare -m --propagation private sh -c 'umount -l /sys/fs/cgroup/unified; exec crun ...'`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { isBerthError } from '@berth/oci';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createCgroupDriver } from './cgroups/driver.js';
import { createRuntime } from './runtime.js';
import { buildSpec } from './spec.js';
import { makeBusyboxRootfs } from './testing/busybox-bundle.js';
import { buildShim } from './testing/shim-build.js';

const PROBE = [
  'echo "## id"; id',
  'echo "## hostname"; hostname',
  'echo "## status"; grep -E \'^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):\' /proc/self/status',
  'echo "## kcore"; (wc -c < /proc/kcore) 2>&1',
  'echo "## proc-sys"; (echo x > /proc/sys/kernel/domainname) 2>&1',
  'echo "## seccomp"; unshare -U true 2>&1; echo "rc=$?"',
  'echo "## mount"; mount | awk \'{ split($6, o, /[(,)]/); print $3, $5, o[2] }\' | sort',
  'echo "## dev"; ls -l /dev | awk \'/^[cbd]/ { print $1, $NF }\' | sort',
].join('\n');

let tmp: string;
let bundle: string;
let shim: string;

/** The sections of a probe's output, by name. */
function sections(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const part of out.split(/^## /m).slice(1)) {
    const nl = part.indexOf('\n');
    r[part.slice(0, nl)] = part.slice(nl + 1).trimEnd();
  }
  return r;
}

/**
 * Mount points differ between runtimes only in how they mask paths: runc binds the /dev/null
 * it created (a tmpfs node), crun the host's (devtmpfs), and a masked file reads the same.
 * So masked files are compared by mount point and read-only flag, not by source filesystem.
 */
function normalizeMounts(text: string): string {
  return text
    .split('\n')
    .map((l) => {
      const [point, type, ro] = l.split(' ');
      return /^\/proc\/(interrupts|keys|timer_list|kcore|latency_stats|timer_stats|sched_debug)$/.test(point!)
        ? `${point} masked`
        : `${point} ${type} ${ro}`;
    })
    .join('\n');
}

beforeAll(() => {
  shim = buildShim();
  tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
  bundle = join(tmp, 'bundle');
  makeBusyboxRootfs(bundle);
  const spec = buildSpec({ Cmd: ['sh', '-c', PROBE] }, { hostname: 'probe' });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

async function underBerth(ociRuntime?: string): Promise<string> {
  const rt = createRuntime({
    root: join(tmp, ociRuntime ? `berth-${ociRuntime.split('/').pop()}` : 'berth'),
    shim,
    ...(ociRuntime ? { ociRuntime: { path: ociRuntime } } : {}),
  });
  await rt.create('probe', bundle);
  await rt.start('probe');
  expect((await rt.wait('probe')).exitCode).toBe(0);
  const log = readFileSync((await rt.state('probe')).logPath!, 'utf8');
  await rt.delete('probe');
  return log
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { log: string }).log)
    .join('');
}

function underRunc(): string {
  const r = spawnSync(
    'runc',
    ['--root', join(tmp, 'runc'), 'run', '--bundle', bundle, `berth-t${process.pid}-runc`],
    {
      encoding: 'utf8',
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function underCrun(): string {
  const id = `berth-t${process.pid}-crun`;
  const crun = `crun --root ${join(tmp, 'crun')} run --bundle ${bundle} ${id}`;
  const hybrid = existsSync('/sys/fs/cgroup/unified/cgroup.controllers');
  const r = hybrid
    ? spawnSync(
        'unshare',
        ['-m', '--propagation', 'private', 'sh', '-c', `umount -l /sys/fs/cgroup/unified && exec ${crun}`],
        {
          encoding: 'utf8',
        },
      )
    : spawnSync('sh', ['-c', `exec ${crun}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('the same bundle under berth-shim, runc and crun', () => {
  it('runc and crun accept the config.json buildSpec writes', () => {
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { ociVersion: string };
    // crun 1.8 refuses "unknown version specified" for 1.2.x
    expect(spec.ociVersion).toMatch(/^1\.[01]\./);
    expect(execFileSync('runc', ['--version'], { encoding: 'utf8' })).toMatch(/^runc version/);
  });

  it('each container observes the same identity, capabilities, masks, read-only paths, seccomp, mounts and devices', async () => {
    const berth = sections(await underBerth());
    const runc = sections(underRunc());
    const crun = sections(underCrun());
    for (const other of [runc, crun]) {
      for (const key of ['id', 'hostname', 'status', 'kcore', 'proc-sys', 'seccomp', 'dev'])
        expect({ [key]: berth[key] }).toEqual({ [key]: other[key] });
      expect(normalizeMounts(berth.mount!)).toBe(normalizeMounts(other.mount!));
    }
    // and what they observe is docker's
    expect(berth.id).toBe('uid=0(root) gid=0(root) groups=0(root)');
    expect(berth.hostname).toBe('probe');
    expect(berth.status).toContain('CapEff:\t00000000a80425fb');
    expect(berth.status).toContain('Seccomp:\t2');
    expect(berth['proc-sys']).toMatch(/Read-only file system/);
    expect(berth.seccomp).toMatch(/Operation not permitted\nrc=1$/);
  });
});

describe('createRuntime with another OCI runtime (docker --runtime): berth-shim supervises runc or crun', () => {
  for (const path of ['/usr/sbin/runc', '/usr/bin/crun']) {
    const name = path.split('/').pop()!;
    it(`${name}: the container observes what it observes under berth-shim, logged to json-file`, async () => {
      const berth = sections(await underBerth());
      const other = sections(await underBerth(path));
      for (const key of ['id', 'hostname', 'status', 'kcore', 'proc-sys', 'seccomp', 'dev'])
        expect({ [key]: other[key] }).toEqual({ [key]: berth[key] });
      expect(normalizeMounts(other.mount!)).toBe(normalizeMounts(berth.mount!));
    });

    it(`${name}: exit codes, SIGKILL, exec into it (its cgroups), a terminal`, async () => {
      const cg = await createCgroupDriver();
      const rt = createRuntime({ root: join(tmp, `life-${name}`), shim, cgroups: cg, ociRuntime: { path } });
      const spec = (args: string[], patch: (s: ReturnType<typeof buildSpec>) => void = () => {}) => {
        const dir = join(tmp, `b-${name}-${Math.random().toString(36).slice(2)}`);
        makeBusyboxRootfs(dir);
        const sp = buildSpec({ Cmd: args }, { hostname: 'probe' });
        patch(sp);
        writeFileSync(join(dir, 'config.json'), JSON.stringify(sp));
        return dir;
      };
      onTestFinished(() => rt.delete('x', { force: true }).catch(() => {}));
      await rt.create('x', spec(['sh', '-c', 'exit 5']));
      await rt.start('x');
      expect((await rt.wait('x')).exitCode).toBe(5);
      await rt.delete('x');

      await rt.create('x', spec(['sh', '-c', 'echo $$ > /tmp/init; exec sleep 1000']));
      await rt.start('x');
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => {
        text += c.toString();
      });
      await until(async () => (await rt.exec('x', { args: ['test', '-e', '/tmp/init'] })).exitCode === 0);
      const r = await rt.exec('x', {
        args: ['sh', '-c', 'cat /tmp/init; ps -o pid,comm | grep sleep'],
        stdout: out,
      });
      expect(r.exitCode).toBe(0);
      expect(text).toMatch(/^1\n\s*1\s+sleep\n$/);
      const cgs = new PassThrough();
      let mine = '';
      cgs.on('data', (c: Buffer) => {
        mine += c.toString();
      });
      await rt.exec('x', {
        args: ['sh', '-c', 'grep pids /proc/self/cgroup; grep pids /proc/1/cgroup'],
        stdout: cgs,
      });
      const [self, init] = mine.trim().split('\n');
      expect(self).toBe(init);
      await rt.kill('x', 'SIGKILL');
      expect((await rt.wait('x')).exitCode).toBe(137);
      await rt.delete('x');

      await rt.create(
        'x',
        spec(['sh'], (sp) => {
          sp.process!.terminal = true;
          sp.process!.consoleSize = { height: 20, width: 70 };
        }),
      );
      const stdin = new PassThrough();
      const tty = new PassThrough();
      let screen = '';
      tty.on('data', (c: Buffer) => {
        screen += c.toString();
      });
      const h = await rt.attach('x', { stdin, stdout: tty, tty: true });
      await rt.start('x');
      stdin.write('tty; stty size; exit 9\r');
      expect(await h.done).toBe('exited');
      expect(screen).toMatch(/\/dev\/pts\/0\r\n20 70\r\n/);
      expect((await rt.wait('x')).exitCode).toBe(9);
      await rt.delete('x');
    });

    it(`${name}: a missing executable is EXEC_NOT_FOUND with the runtime's message`, async () => {
      const rt = createRuntime({ root: join(tmp, `nf-${name}`), shim, ociRuntime: { path } });
      const dir = join(tmp, `nf-${name}`);
      makeBusyboxRootfs(dir);
      writeFileSync(join(dir, 'config.json'), JSON.stringify(buildSpec({ Cmd: ['no-such-command'] }, {})));
      let err: unknown;
      try {
        await rt.create('x', dir);
        await rt.start('x');
      } catch (e) {
        err = e;
      }
      await rt.delete('x', { force: true }).catch(() => {});
      expect(isBerthError(err, 'EXEC_NOT_FOUND')).toBe(true);
    });
  }
});

/** Polls cond until it holds (the test timeout is the only bound). */
async function until(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 20));
}
