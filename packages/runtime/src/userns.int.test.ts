/**
 * User namespaces on the real kernel: a container whose root is host uid HOST (podman's
 * `--uidmap 0:HOST:65536`), on a rootfs that is an idmapped mount of a host-root-owned busybox
 * tree, run by berth-shim and by runc from the same bundle.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '@berth/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCgroupDriver } from './cgroups/driver.js';
import { idmappedMount } from './idmap.js';
import { createRuntime } from './runtime.js';
import { buildSpec } from './spec.js';
import { makeBusyboxRootfs } from './testing/busybox-bundle.js';
import { buildShim } from './testing/shim-build.js';

const HOST = 300000 + (process.pid % 100) * 65536;
const MAPS = {
  uidMappings: [{ containerID: 0, hostID: HOST, size: 65536 }],
  gidMappings: [{ containerID: 0, hostID: HOST, size: 65536 }],
};

const PROBE = [
  'echo "## id"; id',
  'echo "## maps"; cat /proc/self/uid_map /proc/self/gid_map',
  'echo "## status"; grep -E \'^(Cap(Prm|Eff|Bnd)|NoNewPrivs|Seccomp):\' /proc/self/status',
  'echo "## owners"; stat -c "%u:%g %n" / /bin/busybox /etc/passwd',
  'echo "## secret"; ls -ln /secret | awk \'{ print $3, $4 }\'; (cat /secret) 2>&1; echo "rc=$?"',
  'echo "## created"; touch /vol/made-inside && echo ok',
  'echo "## sys"; ls /sys/class/net',
  'echo "## hostname"; hostname',
].join('\n');

let tmp: string;
let shim: string;
let bundle: string;
const mounted: string[] = [];

function sections(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const part of out.split(/^## /m).slice(1)) {
    const nl = part.indexOf('\n');
    r[part.slice(0, nl)] = part.slice(nl + 1).trimEnd();
  }
  return r;
}

/** A bundle whose rootfs is an idmapped mount of a fresh busybox tree, with /vol and /secret. */
async function makeBundle(
  name: string,
  args: string[],
  cgroupns: 'host' | 'private' = 'host',
): Promise<string> {
  const dir = join(tmp, name);
  const src = makeBusyboxRootfs(join(dir, 'src'));
  mkdirSync(join(dir, 'rootfs'));
  await idmappedMount({ source: src, target: join(dir, 'rootfs'), ...MAPS, shim: { shim } });
  mounted.push(join(dir, 'rootfs'));
  // a volume the container's root owns on the host, and a file only host root may read
  mkdirSync(join(dir, 'vol'));
  chownSync(join(dir, 'vol'), HOST, HOST);
  writeFileSync(join(dir, 'secret'), 'host root only\n', { mode: 0o600 });
  const spec = buildSpec({ Cmd: args }, { hostname: 'userns', userns: MAPS, cgroupns });
  spec.mounts!.push(
    { destination: '/vol', type: 'bind', source: join(dir, 'vol'), options: ['rbind'] },
    { destination: '/secret', type: 'bind', source: join(dir, 'secret'), options: ['bind', 'ro'] },
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}

beforeAll(async () => {
  shim = buildShim();
  tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-userns-`));
  // the container's root (an unprivileged host uid) must be able to reach the bundle, as runc
  chmodSync(tmp, 0o711);
  bundle = await makeBundle('probe', ['sh', '-c', PROBE]);
});
afterAll(() => {
  for (const m of mounted.splice(0)) spawnSync('umount', [m]);
  rmSync(tmp, { recursive: true, force: true });
});

async function underBerth(dir: string): Promise<{ out: string; hostUid: string }> {
  const rt = createRuntime({ root: join(tmp, 'state'), shim });
  const id = `berth-t${process.pid}-userns`;
  const st = await rt.create(id, dir);
  // set up and waiting for start: already the container's user, seen from the host
  const hostUid = /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${st.pid}/status`, 'utf8'))![1]!;
  await rt.start(id);
  expect((await rt.wait(id)).exitCode).toBe(0);
  const log = readFileSync((await rt.state(id)).logPath!, 'utf8');
  await rt.delete(id);
  const out = log
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { log: string }).log)
    .join('');
  return { out, hostUid };
}

describe('user namespaces (real kernel)', () => {
  it('inside root, outside an unprivileged uid: maps, capabilities, owners, a host-only file, a volume', async () => {
    const { out, hostUid } = await underBerth(bundle);
    const s = sections(out);
    expect(hostUid.split(/\s+/)).toEqual([String(HOST), String(HOST), String(HOST), String(HOST)]);
    expect(s.id).toBe('uid=0(root) gid=0(root) groups=0(root)');
    expect(s.maps!.split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
      ['0', String(HOST), '65536'],
      ['0', String(HOST), '65536'],
    ]);
    // docker's capabilities, valid in the container's namespace only
    expect(s.status).toContain('CapEff:\t00000000a80425fb');
    expect(s.status).toContain('Seccomp:\t2');
    // the idmapped rootfs: host root's files are the container root's
    expect(s.owners).toBe('0:0 /\n0:0 /bin/busybox\n0:0 /etc/passwd');
    // host root is nobody here, and root here cannot read its 0600 file
    expect(s.secret).toMatch(/^65534 65534\ncat: can't open '\/secret': Permission denied\nrc=1$/);
    expect(s.created).toBe('ok');
    const made = statSync(join(bundle, 'vol', 'made-inside'));
    expect([made.uid, made.gid]).toEqual([HOST, HOST]);
    // sysfs of the container's own network namespace (owned by its user namespace)
    expect(s.sys).toBe('lo');
    expect(s.hostname).toBe('userns');
  });

  it('with cgroups, the shim places the init in every hierarchy itself (the child is an unmapped user)', async () => {
    const rt = createRuntime({ root: join(tmp, 'state-cg'), shim, cgroups: await createCgroupDriver() });
    const id = `berth-t${process.pid}-userns-cg`;
    const st = await rt.create(id, bundle);
    try {
      const lines = readFileSync(`/proc/${st.pid}/cgroup`, 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(new RegExp(`:/berth/${id}$`));
    } finally {
      await rt.delete(id, { force: true });
    }
  });

  it('runc runs the same bundle the same way (with a private cgroup namespace)', async () => {
    const dir = await makeBundle('probe-runc', ['sh', '-c', PROBE], 'private');
    const { out } = await underBerth(dir);
    rmSync(join(dir, 'vol', 'made-inside'));
    const r = spawnSync(
      'runc',
      ['--root', join(tmp, 'runc'), 'run', '--bundle', dir, `berth-t${process.pid}-uns`],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const berth = sections(out);
    const runc = sections(r.stdout);
    for (const key of ['id', 'maps', 'status', 'owners', 'secret', 'created', 'sys', 'hostname'])
      expect({ [key]: berth[key] }).toEqual({ [key]: runc[key] });
    expect(statSync(join(dir, 'vol', 'made-inside')).uid).toBe(HOST);
  });

  it('exec joins the user namespace: same maps, root inside', async () => {
    const dir = await makeBundle('exec', ['sleep', '1000']);
    const rt = createRuntime({ root: join(tmp, 'state-exec'), shim });
    const id = `berth-t${process.pid}-uexec`;
    await rt.create(id, dir);
    await rt.start(id);
    try {
      let text = '';
      const { PassThrough } = await import('node:stream');
      const out = new PassThrough();
      out.on('data', (c: Buffer) => {
        text += c.toString();
      });
      const r = await rt.exec(id, { args: ['sh', '-c', 'id -u; cat /proc/self/uid_map'], stdout: out });
      expect(r.exitCode).toBe(0);
      expect(text.split('\n')[0]).toBe('0');
      expect(text.split('\n')[1]!.trim().split(/\s+/)).toEqual(['0', String(HOST), '65536']);
    } finally {
      await rt.delete(id, { force: true });
    }
  });

  it('refuses privileged with a user namespace, and bad maps, naming the option', () => {
    let err: unknown;
    try {
      buildSpec({ Cmd: ['true'] }, { userns: MAPS, privileged: true });
    } catch (e) {
      err = e;
    }
    expect(isBerthError(err, 'INVALID_OPTION')).toBe(true);
    err = undefined;
    try {
      buildSpec(
        { Cmd: ['true'] },
        {
          userns: {
            uidMappings: [
              { containerID: 0, hostID: HOST, size: 10 },
              { containerID: 5, hostID: HOST + 100, size: 10 },
            ],
            gidMappings: MAPS.gidMappings,
          },
        },
      );
    } catch (e) {
      err = e;
    }
    expect(isBerthError(err, 'INVALID_OPTION')).toBe(true);
    expect((err as Error).message).toMatch(/^userns.uidMappings.*overlaps/);
  });
});
