/**
 * The container tools of issue 6 as a person runs them, each `berth` a separate process (the
 * built bundle through testing/cli-harness.ts: ~70 commands, a tsx start costs far more) over one
 * private state root: pause/unpause (a counter stops and resumes),
 * top, port, stats, diff, export, commit, info and system prune, checked against what the host
 * sees (the container's files, its processes, the kernel's cgroup).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { humanSize, humanSizeWithPrecision } from '../format/units.js';
import { cliHarness, finish, host, sleep, until } from '../testing/cli-harness.js';

const cli = cliHarness('btools');
const { berth, ok, start } = cli;

beforeAll(async () => {
  await cli.setup();
  await cli.loadBusybox();
}, 180_000);

afterEach(() => cli.removeContainers());

afterAll(() => cli.dispose());

describe('pause, unpause, top and port', () => {
  it('freezes a counter, lists its processes with ps, and has no published ports', async () => {
    const name = `tick${process.pid}`;
    await ok(
      'run',
      '-d',
      '--name',
      name,
      'busybox',
      'sh',
      '-c',
      'sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done',
    );
    const merged = (await ok('inspect', '-f', '{{.GraphDriver.Data.MergedDir}}', name)).trim();
    const counter = async () =>
      Number((await readFile(join(merged, 'tmp/n'), 'utf8').catch(() => '0')).trim());
    await until(async () => ((await counter()) > 0 ? true : undefined), 'the counter');

    // top: docker's default ps -ef columns, only the container's processes, and ps options
    const top = (await ok('top', name)).split('\n').filter(Boolean);
    expect(top[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(top.some((l) => /\ssleep 1000$/.test(l))).toBe(true);
    expect(top.some((l) => l.includes('vitest') || l.includes('berth.js'))).toBe(false);
    const pidComm = (await ok('top', name, '-o', 'pid,comm')).split('\n').filter(Boolean);
    expect(pidComm[0]).toMatch(/^PID\s+COMMAND$/);
    expect(pidComm.some((l) => /^\d+\s+sleep$/.test(l))).toBe(true);

    // pause: the counter stops; ps and inspect say so; a second pause is refused
    expect(await ok('pause', name)).toBe(`${name}\n`);
    const frozen = await counter();
    await sleep(400);
    expect(await counter()).toBe(frozen);
    expect(await ok('ps', '--format', '{{.Status}} {{.State}}')).toMatch(/^Up .* \(Paused\) paused\n$/);
    const again = await berth('pause', name);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is already paused/);

    // unpause: it counts again; unpausing a running container is refused
    expect(await ok('unpause', name)).toBe(`${name}\n`);
    await until(async () => ((await counter()) > frozen ? true : undefined), 'the counter to move');
    const notPaused = await berth('unpause', name);
    expect(notPaused.code).toBe(1);
    expect(notPaused.stderr).toMatch(/is not paused/);

    // port: no network publishes anything yet
    expect(await berth('port', name)).toMatchObject({ code: 0, stdout: '' });
    const p80 = await berth('port', name, '80');
    expect(p80.code).toBe(1);
    expect(p80.stderr).toBe(`Error: No public port '80' published for ${name}\n`);

    // kill of a paused container: SIGKILL is delivered once it is thawed (docker's order)
    await ok('pause', name);
    await ok('kill', name);
    expect(await ok('wait', name)).toBe('137\n');
    const stopped = await berth('top', name);
    expect(stopped.code).toBe(125);
    expect(stopped.stderr).toMatch(/is not running/);
  }, 300_000);
});

describe('stats', () => {
  it('shows memory within the --memory limit, the pids count and network bytes without lo', async () => {
    const name = `stats${process.pid}`;
    const id = (
      await ok(
        'run',
        '-d',
        '--name',
        name,
        '-m',
        '64m',
        '--pids-limit',
        '50',
        'busybox',
        'sh',
        '-c',
        'sleep 1000 & sleep 1000 & head -c 8000000 /dev/zero > /tmp/blob; wait',
      )
    ).trim();
    const pid = (await ok('inspect', '-f', '{{.State.Pid}}', name)).trim();
    // an interface besides lo in the container's namespace, with traffic (what a bridge will add)
    const ns = ['nsenter', `--net=/proc/${pid}/ns/net`, '--'];
    const sh = (cmd: string[]) => host(cmd[0] as string, ...cmd.slice(1));
    expect((await sh([...ns, 'ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'])).code).toBe(0);
    await sh([...ns, 'ip', 'link', 'set', 'v0', 'up']);
    await sh([...ns, 'ip', 'link', 'set', 'v1', 'up']);
    await sh([...ns, 'ip', 'addr', 'add', '10.213.9.1/24', 'dev', 'v0']);
    await sh([...ns, 'ping', '-c', '1', '-W', '1', '10.213.9.2']);
    await until(async () => ((await ok('top', name)).includes('sleep 1000') ? true : undefined), 'sleeps');

    const out = await ok('stats', '--no-stream');
    const [header, row] = out.split('\n');
    expect(header).toMatch(
      /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/,
    );
    expect(row?.startsWith(`${id.slice(0, 12)}   ${name}   `)).toBe(true);
    // rx/tx of v0 and v1 as the kernel counts them in that namespace, lo left out
    const counters = async (): Promise<[number, number]> => {
      const dev = await readFile(`/proc/${pid}/net/dev`, 'utf8');
      let rx = 0;
      let tx = 0;
      for (const l of dev.split('\n').slice(2)) {
        const [ifname, rest] = l.split(':');
        if (!rest || ifname?.trim() === 'lo') continue;
        const n = rest.trim().split(/\s+/).map(Number);
        rx += n[0] ?? 0;
        tx += n[8] ?? 0;
      }
      return [rx, tx];
    };
    // the kernel may still be sending ARP retries or IPv6 DAD/MLD on the new link: compare
    // against counters that did not move while stats sampled them
    let fmt: string[] = [];
    let rx = -1;
    let tx = -1;
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = await counters();
      fmt = (
        await ok(
          'stats',
          '--no-stream',
          name,
          '--format',
          '{{.Container}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.PIDs}}',
        )
      )
        .trim()
        .split('|');
      const after = await counters();
      if (before[0] === after[0] && before[1] === after[1]) {
        [rx, tx] = after;
        break;
      }
    }
    expect(fmt[0]).toBe(name);
    const [used, limit] = (fmt[1] ?? '').split(' / ');
    expect(limit).toBe('64MiB');
    const units: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
    const m = /^([\d.]+)(B|KiB|MiB|GiB)$/.exec(used ?? '');
    const bytes = Number(m?.[1]) * (units[m?.[2] ?? ''] ?? Number.NaN);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(64 * 1024 ** 2);
    expect(Number.parseFloat(fmt[2] ?? '')).toBeCloseTo((bytes / (64 * 1024 ** 2)) * 100, 0);
    // the shell and its two sleeps
    expect(fmt[4]).toBe('3');
    expect(rx).toBeGreaterThan(0);
    expect(fmt[3]).toBe(`${humanSizeWithPrecision(rx, 3)} / ${humanSizeWithPrecision(tx, 3)}`);
    expect((await berth('stats', '--no-stream', 'nosuch')).stderr).toMatch(/No such container: nosuch/);

    // streaming: the screen is cleared and the table redrawn every second until interrupted
    const live = start(['stats', name, '--format', 'table {{.Name}}\t{{.PIDs}}']);
    let frames = '';
    live.stdout?.on('data', (d: Buffer) => {
      frames += d.toString();
    });
    await until(async () => (frames.split('\x1b[2J\x1b[H').length > 2 ? true : undefined), 'two frames');
    live.kill('SIGINT');
    await finish(live);
    const [first, second] = frames.split('\x1b[2J\x1b[H').slice(1);
    for (const f of [first, second]) expect(f).toMatch(new RegExp(`^NAME\\s+PIDS\\n${name}\\s+3\\n`));
  }, 300_000);
});

describe('diff, export and commit', () => {
  it('lists A/C/D, exports the changed tree, and commits an image that runs with the change', async () => {
    const name = `chg${process.pid}`;
    await ok(
      'run',
      '--name',
      name,
      'busybox',
      'sh',
      '-c',
      'touch /new && rm /etc/group && echo x >> /etc/passwd && ln -s / /escape',
    );
    // berth's own mount points (/etc/hosts, /etc/hostname, /etc/resolv.conf) are not changes
    expect(await ok('diff', name)).toBe('A /escape\nC /etc\nD /etc/group\nC /etc/passwd\nA /new\n');

    const tarFile = join(cli.root, 'export.tar');
    expect(await ok('export', '-o', tarFile, name)).toBe('');
    const list = (await host('tar', 'tf', tarFile)).stdout.split('\n');
    expect(list).toContain('new');
    expect(list).toContain('bin/busybox');
    expect(list).not.toContain('etc/group');
    // a symlink to the host's root is archived as a symlink, never followed
    expect(list).toContain('escape');
    expect(list.some((e) => e.startsWith('escape/'))).toBe(false);
    const passwd = await host('tar', 'xOf', tarFile, 'etc/passwd');
    expect(passwd.stdout.endsWith('\nx\n')).toBe(true);

    const bad = await berth('commit', '-c', 'RUN true', name, `bad${process.pid}:1`);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/run is not a valid change command/);
    const noImage = await berth('image', 'inspect', `bad${process.pid}:1`);
    expect(noImage.code, noImage.stderr).toBe(1);

    const image = `committed${process.pid}:v1`;
    const id = (
      await ok(
        'commit',
        '-a',
        'Ann <ann@example.com>',
        '-m',
        'with /new',
        '-c',
        'CMD ["sh", "-c", "ls /new; cat /etc/group; echo $FOO; pwd; id -u"]',
        '-c',
        'ENV FOO=bar',
        '-c',
        'WORKDIR /tmp',
        '-c',
        'USER nobody',
        '-c',
        'LABEL stage=two',
        '-c',
        'EXPOSE 8080/udp',
        name,
        image,
      )
    ).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(
      await ok(
        'image',
        'inspect',
        '-f',
        '{{.Id}} {{.Author}} {{.Config.Labels.stage}} {{json .Config.ExposedPorts}}',
        image,
      ),
    ).toBe(`${id} Ann <ann@example.com> two {"8080/udp":{}}\n`);
    const r = await berth('run', '--rm', image);
    expect(r.stdout).toBe('/new\nbar\n/tmp\n65534\n');
    expect(r.stderr).toMatch(/can't open '\/etc\/group'/);
    expect(await ok('history', '--format', '{{.Comment}}', image)).toMatch(/^with \/new\n/);
  }, 300_000);
});

describe('info, --runtime and system prune', () => {
  it('reports the host and counts, runs under runc and crun with pause and stats, and prunes', async () => {
    const name = `oci${process.pid}`;
    const id = (
      await ok('run', '-d', '--runtime', 'runc', '--name', name, '-m', '32m', 'busybox', 'sleep', '1000')
    ).trim();
    expect(await ok('inspect', '-f', '{{.HostConfig.Runtime}}', name)).toBe('runc\n');
    // runc made the cgroup berth named: the freezer and the stats read it
    await ok('pause', name);
    expect(await ok('inspect', '-f', '{{.State.Status}}', name)).toBe('paused\n');
    expect((await ok('stats', '--no-stream', name, '--format', '{{.MemUsage}} {{.PIDs}}')).trim()).toMatch(
      /^\d+(\.\d+)?(B|KiB|MiB) \/ 32MiB 1$/,
    );

    const info = JSON.parse(await ok('info', '--format', '{{json .}}')) as Record<string, unknown>;
    expect(info).toMatchObject({
      Containers: 1,
      ContainersRunning: 0,
      ContainersPaused: 1,
      ContainersStopped: 0,
      DockerRootDir: cli.root,
      OSType: 'linux',
      KernelVersion: release(),
      NCPU: cpus().length,
      MemTotal: totalmem(),
      DefaultRuntime: 'berth',
      LoggingDriver: 'json-file',
    });
    expect(info.Images).toBeGreaterThanOrEqual(1); // busybox, and what other tests committed
    expect(['1', '2']).toContain(info.CgroupVersion);
    expect(Object.keys(info.Runtimes as object).sort()).toEqual(['berth', 'crun', 'runc']);
    const text = await ok('info');
    expect(text).toMatch(/^Client:\n Context: {4}default\n/);
    expect(text).toContain(
      `\n Containers: 1\n  Running: 0\n  Paused: 1\n  Stopped: 0\n Images: ${info.Images}\n`,
    );
    expect(text).toContain(`\n Docker Root Dir: ${cli.root}\n`);
    await ok('unpause', name);

    const crun = await berth('run', '--rm', '--runtime', 'crun', 'busybox', 'echo', 'hi from crun');
    expect(crun).toMatchObject({ code: 0, stdout: 'hi from crun\n' });
    const bogus = await berth('run', '--rm', '--runtime', 'bogus', 'busybox', 'true');
    expect(bogus.code).toBe(125);
    expect(bogus.stderr).toMatch(/unknown or invalid runtime name: bogus/);

    // what prune takes: a stopped container and a dangling image; the running one stays
    const stopped = (await ok('create', 'busybox', 'true')).trim();
    const dangling = (await ok('commit', name)).trim();
    const asked = start(['system', 'prune'], { stdin: 'pipe' });
    asked.stdin?.end('n\n');
    const no = await finish(asked);
    expect(no.stdout).toBe(
      'WARNING! This will remove:\n  - all stopped containers\n  - all dangling images\n\nAre you sure you want to continue? [y/N] ',
    );
    expect((await ok('ps', '-aq', '--no-trunc')).split('\n').filter(Boolean).sort()).toEqual(
      [id, stopped].sort(),
    );
    // a --rm container's root is prepared without fsyncs: a power loss can leave its tree with
    // no record, an orphan that prune removes
    const orphan = `${cli.root}/snapshots/snapshots/${900000 + (process.pid % 99999)}`;
    await mkdir(`${orphan}/fs/etc`, { recursive: true });
    const pruned = await ok('system', 'prune', '-f');
    expect(existsSync(orphan)).toBe(false);
    expect(pruned).toMatch(
      new RegExp(
        `^Deleted Containers:\\n${stopped}\\n\\nDeleted Images:\\ndeleted: ${dangling}\\n\\nTotal reclaimed space: \\S+\\n$`,
      ),
    );
    expect((await ok('ps', '-aq', '--no-trunc')).trim()).toBe(id);
    const left = (await ok('images', '-aq', '--no-trunc')).trim().split('\n');
    expect(left).not.toContain(dangling);
    expect(left).toHaveLength(info.Images as number);
    await ok('rm', '-f', name);
    const cgroups = await readdir('/sys/fs/cgroup/memory/berth').catch(() => [] as string[]);
    expect(cgroups).not.toContain(id);
  }, 300_000);
});

describe('system df', () => {
  it("sums the containers' writable layers: running and paused are active, stopped ones reclaimable", async () => {
    const up = `dfup${process.pid}`;
    const done = `dfdone${process.pid}`;
    await ok(
      'run',
      '-d',
      '--name',
      up,
      'busybox',
      'sh',
      '-c',
      'head -c 300000 /dev/zero > /big; exec sleep 1000',
    );
    await ok('run', '--name', done, 'busybox', 'sh', '-c', 'head -c 700000 /dev/zero > /big');
    const created = (await ok('create', 'busybox', 'true')).trim();
    const upper = async (ref: string) =>
      (await ok('inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', ref)).trim();
    const upUpper = await upper(up);
    await until(
      async () => (await stat(join(upUpper, 'big')).catch(() => undefined))?.size === 300000,
      'the write',
    );
    // the disk use of each upper dir as du counts it on the host (blocks, a hardlink once)
    const du = async (ref: string) =>
      Number((await host('du', '-sB1', await upper(ref))).stdout.split('\t')[0]);
    const [sizeUp, sizeDone, sizeCreated] = [await du(up), await du(done), await du(created)];
    expect(sizeDone).toBeGreaterThanOrEqual(700000);
    await ok('pause', up); // paused still holds its layer: active, as docker counts it
    const total = sizeUp + sizeDone + sizeCreated;
    const stopped = sizeDone + sizeCreated;
    const rows = (await ok('system', 'df', '--format', '{{json .}}'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows.map((r) => r.Type)).toEqual(['Images', 'Containers', 'Local Volumes', 'Build Cache']);
    expect(rows[1]).toEqual({
      Active: '1',
      Reclaimable: `${humanSize(stopped)} (${Math.trunc((100 * stopped) / total)}%)`,
      Size: humanSize(total),
      TotalCount: '3',
      Type: 'Containers',
    });
    // busybox is the only image a container uses
    const images = new Set((await ok('images', '-q', '--no-trunc')).split('\n').filter(Boolean));
    expect(rows[0]).toMatchObject({ TotalCount: String(images.size), Active: '1' });
    expect(rows[2]).toEqual({
      Active: '0',
      Reclaimable: '0B',
      Size: '0B',
      TotalCount: '0',
      Type: 'Local Volumes',
    });

    const table = (await ok('system', 'df')).split('\n');
    expect(table[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    expect(table[2]).toMatch(
      new RegExp(`^Containers\\s+3\\s+1\\s+${humanSize(total)}\\s+${humanSize(stopped)} \\(\\d+%\\)$`),
    );
    expect(table.slice(3)).toEqual([
      expect.stringMatching(/^Local Volumes\s+0\s+0\s+0B\s+0B$/),
      expect.stringMatching(/^Build Cache\s+0\s+0\s+0B\s+0B$/),
      '',
    ]);

    // -v: each image and container; the container sizes are their own layers
    const verbose = await ok('system', 'df', '-v');
    expect(verbose).toMatch(
      /^Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\n/,
    );
    expect(verbose).toMatch(/\nbusybox\s+latest\s+[0-9a-f]{12}\s+.+\s+3\n/);
    expect(verbose).toContain(
      '\n\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND                  LOCAL VOLUMES   SIZE',
    );
    const row = (name: string) => verbose.split('\n').find((l) => l.endsWith(`   ${name}`)) ?? '';
    expect(row(up)).toContain(`   ${humanSizeWithPrecision(sizeUp, 3)}   `);
    expect(row(up)).toMatch(/\(Paused\)/);
    expect(row(done)).toContain(`   ${humanSizeWithPrecision(sizeDone, 3)}   `);
    expect(verbose).toMatch(
      /\n\nLocal Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\n\nBuild cache usage: 0B\n\nCACHE ID\s+CACHE TYPE\s+SIZE\s+CREATED\s+LAST USED\s+USAGE\s+SHARED\n$/,
    );
    const json = JSON.parse(await ok('system', 'df', '-v', '--format', '{{json .}}')) as {
      Containers: { ID: string; Names: string }[];
    };
    const createdName = (await ok('inspect', '-f', '{{.Name}}', created)).trim().slice(1);
    expect(json.Containers.map((c) => c.Names).sort()).toEqual([up, done, createdName].sort());
    expect(json.Containers.find((c) => c.Names === up)?.ID).toHaveLength(64);

    // container prune frees what the row called reclaimable
    await ok('unpause', up);
    const pruned = await ok('container', 'prune', '-f');
    expect(pruned).toContain(`Total reclaimed space: ${humanSize(stopped)}\n`);
    const after = JSON.parse(
      (await ok('system', 'df', '--format', '{{json .}}')).split('\n')[1] ?? '',
    ) as Record<string, string>;
    expect(after).toMatchObject({
      TotalCount: '1',
      Active: '1',
      Size: humanSize(sizeUp),
      Reclaimable: '0B (0%)',
    });
  }, 300_000);
});
