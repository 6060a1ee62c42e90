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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

async function underBerth(): Promise<string> {
  const rt = createRuntime({ root: join(tmp, 'berth'), shim });
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
