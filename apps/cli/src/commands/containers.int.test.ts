/**
 * The container commands as a person runs them: separate `berth` processes (the built bundle,
 * testing/cli-harness.ts) over one private state root, with the reliability cases of issue 6 —
 * a CLI killed with SIGKILL, a container process killed from outside, start racing rm -f, and
 * 50 parallel runs — each checked for leaked mounts, cgroups and berth-shim processes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliDir, cliHarness, finish, until } from '../testing/cli-harness.js';

const cli = cliHarness('bt');
const { berth, ok, start } = cli;
let busyboxArchive = '';

/**
 * What containers may leave behind: mounts of their roots, their cgroups, their berth-shims
 * (with no IDs: anything under the root).
 */
async function leftovers(ids: string[]): Promise<string[]> {
  const out: string[] = [];
  const root = cli.root;
  const mine = (text: string) => (ids.length ? ids.some((id) => text.includes(id)) : text.includes(root));
  for (const l of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const mp = l.split(' ')[4] ?? '';
    if (mp.startsWith(root) && mine(mp)) out.push(`mount ${mp}`);
  }
  const cg = '/sys/fs/cgroup';
  for (const h of await readdir(cg).catch(() => [] as string[])) {
    const names = await readdir(join(cg, h, 'berth')).catch(() => [] as string[]);
    for (const id of ids) if (names.includes(id)) out.push(`cgroup ${h}/berth/${id}`);
  }
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('berth-shim') && cmd.includes(root) && mine(cmd))
      out.push(`process ${pid} ${cmd.replace(/\0/g, ' ')}`);
  }
  return out;
}

beforeAll(async () => {
  await cli.setup();
  // the README demo, offline
  const loaded = await cli.loadBusybox();
  busyboxArchive = loaded.archive;
  expect(loaded.output).toContain('Loaded image: busybox:latest');
}, 180_000);

/** Every test starts with no containers. */
afterEach(() => cli.removeContainers());

afterAll(() => cli.dispose());

describe('berth run and the container commands (separate processes)', () => {
  it('runs the README demo and exits with docker exit codes', async () => {
    const hello = await berth('run', '--rm', 'busybox', 'echo', 'hello from berth');
    expect(hello).toMatchObject({ code: 0, stdout: 'hello from berth\n' });
    expect((await berth('run', '--rm', 'busybox', 'sh', '-c', 'echo e >&2; exit 7')).code).toBe(7);
    expect((await berth('run', '--rm', 'busybox', 'nosuchcmd')).code).toBe(127);
    expect((await berth('run', '--rm', 'busybox', '/etc/passwd')).code).toBe(126);
    expect((await berth('run', '--bogus', 'busybox')).code).toBe(125);
    const missing = await berth('run', '--pull', 'never', 'nosuch/image:1', 'true');
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain('No such image');
    expect((await ok('ps', '-aq')).trim()).toBe('');
    expect(await leftovers([])).toEqual([]);
  });

  it('run and run -d: a process that cannot be executed gives 127/126 and its record says so; a good run -d prints its ID once running; events in docker order', async () => {
    const t0 = Date.now();
    const events = async (name: string) =>
      (
        await ok(
          'events',
          '--since',
          String(t0 / 1000),
          '--until',
          String(Date.now() / 1000 + 0.001),
          '--filter',
          `container=${name}`,
          '--format',
          '{{.Action}}',
        )
      )
        .split('\n')
        .filter(Boolean);
    const missing = await berth('run', '--name', 'no-exec', 'busybox', 'nosuchcmd');
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('exec: "nosuchcmd": executable file not found in $PATH');
    const denied = await berth('run', '-d', '--name', 'no-perm', 'busybox', '/etc/passwd');
    expect(denied).toMatchObject({ code: 126, stdout: '' });
    expect(denied.stderr).toContain('exec: "/etc/passwd": permission denied');
    for (const [name, code, why] of [
      ['no-exec', 127, 'executable file not found'],
      ['no-perm', 126, 'permission denied'],
    ] as const) {
      const state = JSON.parse(await ok('inspect', '-f', '{{json .State}}', name)) as Record<string, unknown>;
      // docker keeps a container whose start failed as created, with the code and the error
      expect(state).toMatchObject({ Status: 'created', Running: false, Pid: 0, ExitCode: code });
      expect(state.Error).toContain(why);
      expect(await events(name)).toEqual(['create']);
    }
    const id = (await ok('run', '-d', '--name', 'good', 'busybox', 'sleep', '1000')).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // running, with the pid of the container's own process, once run -d has printed the ID
    const [status, pid] = (await ok('inspect', '-f', '{{.State.Status}} {{.State.Pid}}', id))
      .trim()
      .split(' ');
    expect(status).toBe('running');
    expect((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')).toEqual(['sleep', '1000', '']);
    expect(await events('good')).toEqual(['create', 'start']);
    await ok('rm', '-f', 'no-exec', 'no-perm', 'good');
    expect(await leftovers([id])).toEqual([]);
  });

  it('--uidmap: root inside is an unprivileged host uid on idmapped image layers; rm leaves nothing', async () => {
    const host = 400000 + (process.pid % 100) * 65536;
    const map = `0:${host}:65536`;
    const probe =
      'echo made > /made; id; cat /proc/self/uid_map /proc/self/gid_map; stat -c "%u:%g %n" / /bin/busybox /etc/passwd /made; exec sleep 100';
    const id = (await ok('run', '-d', '--uidmap', map, 'busybox', 'sh', '-c', probe)).trim();
    const pid = Number((await ok('inspect', '-f', '{{.State.Pid}}', id)).trim());
    const inside = await until(async () => {
      const out = await ok('logs', id);
      return out.includes('/made\n') ? out : undefined;
    }, 'the probe');
    // the probe has run: the init is sleep now, as the container's root, seen from the host
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    expect(/^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/)).toEqual(Array(4).fill(String(host)));
    expect(inside.split('\n').map((l) => l.trim().replace(/\s+/g, ' '))).toEqual([
      'uid=0(root) gid=0(root) groups=0(root)',
      `0 ${host} 65536`,
      `0 ${host} 65536`,
      '0:0 /',
      '0:0 /bin/busybox',
      '0:0 /etc/passwd',
      '0:0 /made',
      '',
    ]);
    // what the container wrote is stored in its upper layer with its host ids
    const upper = (await ok('inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', id)).trim();
    const made = await stat(join(upper, 'made'));
    expect([made.uid, made.gid]).toEqual([host, host]);
    await ok('rm', '-f', id);
    expect(await leftovers([id])).toEqual([]);
  });

  it('--userns=auto: each container gets a free range of the containers entries of /etc/subuid, freed with it', async () => {
    // with no entry (this host's /etc/subuid has none): podman's error, nothing left
    const none = await berth('run', '--rm', '--userns=auto', 'busybox', 'true');
    expect(none.code).toBe(125);
    expect(none.stderr).toContain('no subordinate ids for user "containers" in /etc/subuid');
    // a private mount namespace sees its own /etc/subuid and /etc/subgid; the host's stay as they are
    const base = 1 << 30;
    await writeFile(join(cli.root, 'subuid'), `containers:${base}:${2 * 65536}\n`);
    await writeFile(join(cli.root, 'subgid'), `containers:${base + 4 * 65536}:${2 * 65536}\n`);
    const b = cli.shell([]);
    const script = `set -e
mount --bind ${cli.root}/subuid /etc/subuid; mount --bind ${cli.root}/subgid /etc/subgid
a=$(${b} run -d --userns=auto busybox sh -c 'cat /proc/self/uid_map /proc/self/gid_map; exec sleep 100')
c=$(${b} run -d --userns=auto:size=1000 busybox sh -c 'cat /proc/self/uid_map /proc/self/gid_map; exec sleep 100')
full=$(${b} run --rm --userns=auto busybox true 2>&1 || echo "exit $?")
until ${b} logs $a | grep -q .; do sleep 0.2; done
until ${b} logs $c | grep -q .; do sleep 0.2; done
echo "mode $(${b} inspect -f '{{.HostConfig.UsernsMode}}' $a)"
${b} logs $a; ${b} logs $c; echo "$full"
${b} rm -f $a >/dev/null
${b} run --rm --userns=auto busybox cat /proc/self/uid_map
${b} rm -f $c >/dev/null
`;
    const r = await finish(
      spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
        cwd: cliDir,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    expect(lines).toEqual([
      'mode auto',
      `0 ${base} 65536`,
      `0 ${base + 4 * 65536} 65536`,
      `0 ${base + 65536} 1000`,
      `0 ${base + 5 * 65536} 1000`,
      'Error: userns: --userns=auto: no free range of 65536 ids left for user "containers" in /etc/subuid',
      'exit 125',
      `0 ${base} 65536`,
      '',
    ]);
    expect(await readdir(join(cli.root, 'userns', 'uid'))).toEqual([]);
  });

  it('--uidmap under a directory others cannot search: 125 naming that directory', async () => {
    const parent = await mkdtemp(`/tmp/bt${process.pid}-closed-`); // 0700
    const other = join(parent, 'root');
    const inOther = (...args: string[]) => finish(start(args, { env: { BERTH_ROOT: other } }));
    try {
      expect((await inOther('load', '-i', busyboxArchive)).code).toBe(0);
      const r = await inOther('run', '--rm', '--uidmap', '0:100000:65536', 'busybox', 'true');
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(`${parent} is not searchable by others`);
    } finally {
      await inOther('container', 'prune', '-f');
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('refuses bad user namespace options with 125, naming the flag, leaving nothing', async () => {
    for (const args of [
      ['--uidmap', '0:100000:0'],
      ['--uidmap', '0:100000'],
      ['--uidmap', '0:100000:10', '--uidmap', '5:200000:10'],
      ['--userns', 'host', '--uidmap', '0:100000:10'],
      ['--userns', 'nosuch'],
      ['--gidmap', '0:100000:10'],
      ['--privileged', '--uidmap', '0:100000:10'],
    ]) {
      const r = await berth('run', '--rm', ...args, 'busybox', 'true');
      expect({ args, code: r.code }).toEqual({ args, code: 125 });
      expect(r.stderr).toMatch(/uidmap|gidmap|userns/);
    }
    expect((await ok('ps', '-aq')).trim()).toBe('');
  });

  it('lists, logs, inspects, stops and removes a detached container', async () => {
    const id = (
      await ok(
        'run',
        '-d',
        '--name',
        'web',
        '-l',
        'tier=front',
        'busybox',
        'sh',
        '-c',
        'echo one; echo two; sleep 1000',
      )
    ).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = await ok('ps');
    expect(ps.split('\n')[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(ps).toContain(`${id.slice(0, 12)}   busybox   "sh -c 'echo one; ec…"`);
    expect(ps).toMatch(/Up (Less than a second|\d+ seconds?)\s+web/);
    expect(await ok('ps', '--filter', 'label=tier=front', '--format', '{{.Names}} {{.State}}')).toBe(
      'web running\n',
    );
    await until(async () => ((await ok('logs', 'web')) === 'one\ntwo\n' ? true : undefined), 'logs');
    expect(await ok('logs', '-n', '1', 'web')).toBe('two\n');
    expect(await ok('logs', '-t', 'web')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z one\n/);
    const state = JSON.parse(await ok('inspect', '--format', '{{json .State}}', 'web')) as Record<
      string,
      unknown
    >;
    expect(state).toMatchObject({
      Status: 'running',
      Running: true,
      Paused: false,
      OOMKilled: false,
      ExitCode: 0,
    });
    expect(await ok('inspect', '-f', '{{.Name}} {{.Config.Labels}}', id.slice(0, 8))).toBe(
      '/web map[tier:front]\n',
    );
    expect((await berth('rm', 'web')).code).toBe(1);
    expect(await ok('stop', '-t', '1', 'web')).toBe('web\n');
    expect(await ok('ps', '-a', '--format', '{{.Status}}')).toMatch(/^Exited \(137\) /);
    expect(await ok('wait', 'web')).toBe('137\n');
    expect(await ok('rm', 'web')).toBe('web\n');
    expect(await leftovers([id])).toEqual([]);
  });

  it('keeps a container running when the CLI is killed with SIGKILL (attached, and during run -d)', async () => {
    const attached = start(['run', '--name', 'survivor', 'busybox', 'sh', '-c', 'echo ready; sleep 1000']);
    let out = '';
    attached.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until(async () => (out.includes('ready') ? true : undefined), 'attached output');
    // still attached: a follower must keep its process alive while the container runs
    await new Promise((r) => setTimeout(r, 500));
    expect(attached.exitCode).toBeNull();
    attached.kill('SIGKILL');
    await finish(attached);
    expect(await ok('ps', '--format', '{{.Names}} {{.State}}')).toContain('survivor running');
    // run -d killed the moment its shim appears
    const before = new Set((await ok('ps', '-aq', '--no-trunc')).split('\n').filter(Boolean));
    const detached = start(['run', '-d', '--name', 'halfway', 'busybox', 'sleep', '1000']);
    const shimRoot = join(cli.root, 'shims');
    const shimDirs = async () => new Set(await readdir(shimRoot).catch(() => [] as string[]));
    const known = await shimDirs();
    await until(async () => {
      for (const d of await shimDirs()) if (!known.has(d)) return d;
      return undefined;
    }, 'a new shim directory');
    detached.kill('SIGKILL');
    await finish(detached);
    const after = (await ok('ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}'))
      .split('\n')
      .filter(Boolean);
    const halfway = after.find((l) => l.includes(' halfway '));
    expect(halfway).toBeDefined();
    expect(before.has(halfway?.split(' ')[0] ?? '')).toBe(false);
    // the launch got as far as created or running; either way start brings it to running
    expect(halfway).toMatch(/ (created|running)$/);
    await ok('start', 'halfway');
    expect(await ok('ps', '--filter', 'name=halfway', '--format', '{{.State}}')).toBe('running\n');
    const ids = (await ok('ps', '-aq', '--no-trunc')).split('\n').filter(Boolean);
    await ok('rm', '-f', 'survivor', 'halfway');
    expect(await leftovers(ids)).toEqual([]);
  });

  it('records the exit code of a process killed from outside', async () => {
    const id = (await ok('run', '-d', 'busybox', 'sleep', '1000')).trim();
    const pid = Number((await ok('inspect', '-f', '{{.State.Pid}}', id)).trim());
    expect(pid).toBeGreaterThan(1);
    process.kill(pid, 'SIGKILL');
    await until(
      async () => ((await ok('ps', '-q', '--filter', `id=${id}`)).trim() === '' ? true : undefined),
      'the container to stop',
    );
    expect(await ok('ps', '-a', '--filter', `id=${id}`, '--format', '{{.Status}}')).toMatch(
      /^Exited \(137\) /,
    );
    expect(await ok('ps', '-aq', '--filter', 'exited=137')).toBe(`${id.slice(0, 12)}\n`);
    expect(await ok('inspect', '-f', '{{.State.ExitCode}} {{.State.Status}}', id)).toBe('137 exited\n');
    await ok('rm', id);
    expect(await leftovers([id])).toEqual([]);
  });

  it('keeps one consistent end state when start and rm -f race', async () => {
    const ids: string[] = [];
    for (let round = 0; round < 4; round++) {
      const id = (await ok('create', 'busybox', 'sleep', '1000')).trim();
      ids.push(id);
      const [s, r] = await Promise.all([berth('start', id), berth('rm', '-f', id)]);
      // no crash: each either did its work or found the container gone
      expect(s.stderr).not.toMatch(/this is a bug/);
      expect(r.stderr).not.toMatch(/this is a bug/);
      expect([0, 1]).toContain(s.code);
      expect(r.code).toBe(0);
      if (s.code === 1) expect(s.stderr).toMatch(/No such container|marked for removal/);
      expect((await berth('inspect', id)).code).toBe(1);
    }
    expect(await leftovers(ids)).toEqual([]);
  });

  it('runs 50 detached containers from parallel processes and removes them without leftovers', async () => {
    const runs = await Promise.all(
      Array.from({ length: 50 }, () => berth('run', '-d', 'busybox', 'sleep', '1000')),
    );
    for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0 });
    const ids = runs.map((r) => r.stdout.trim());
    expect(new Set(ids).size).toBe(50);
    const rows = (await ok('ps', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}'))
      .split('\n')
      .filter(Boolean);
    expect(rows).toHaveLength(50);
    expect(new Set(rows.map((r) => r.split(' ')[1])).size).toBe(50);
    for (const r of rows) expect(r).toMatch(/ running$/);
    expect(new Set(rows.map((r) => r.split(' ')[0]))).toEqual(new Set(ids));
    await Promise.all([ids.slice(0, 25), ids.slice(25)].map((part) => ok('rm', '-f', ...part)));
    expect((await ok('ps', '-aq')).trim()).toBe('');
    expect(await leftovers(ids)).toEqual([]);
    expect(existsSync(join(cli.root, 'containers', ids[0] as string))).toBe(false);
  }, 600_000);
});
