import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, statfsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogEntry } from '@berth/engine';
import { createEngine, type Engine } from '@berth/engine';
import { buildFixtures, type FixtureSet } from '@berth/fixtures';
import { isBerthError } from '@berth/oci';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

let fixtures: FixtureSet;
const roots: string[] = [];
const engines: Engine[] = [];

beforeAll(async () => {
  fixtures = await buildFixtures();
}, 120_000);

afterEach(async () => {
  for (const e of engines.splice(0)) {
    for (const c of await e.containers.list({ all: true }).catch(() => []))
      await e.containers.remove(c.Id, { force: true }).catch(() => {});
    await e.close();
  }
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

/** An engine over a short private root (berth-shim's socket paths must stay under 108 bytes). */
async function engine(): Promise<Engine> {
  const root = await mkdtemp(`/tmp/bt${process.pid}-`);
  roots.push(root);
  const e = await createEngine({ root, runRoot: join(root, 'run') });
  engines.push(e);
  const archive = fixtures.images.busybox.dockerArchive;
  if (!archive) throw new Error('fixture busybox has no docker-archive');
  await e.images.load({ input: createReadStream(archive.path) });
  return e;
}

async function collect(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function mounted(path: string): Promise<boolean> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === path);
}

describe('containers (real shim, overlay, cgroups)', () => {
  it('mounts an --rm container root volatile (no sync at unmount), a kept one not', async () => {
    const e = await engine();
    const superOptions = async (id: string): Promise<string[]> => {
      const merged = (await e.containers.inspect(id)).GraphDriver.Data?.MergedDir;
      const line = (await readFile('/proc/self/mountinfo', 'utf8'))
        .split('\n')
        .find((l) => l.split(' ')[4] === merged);
      return line?.split(' - ')[1]?.split(' ')[2]?.split(',') ?? [];
    };
    const rm1 = await e.containers.create({ image: 'busybox', cmd: ['sleep', '30'], autoRemove: true });
    const kept = await e.containers.create({ image: 'busybox', cmd: ['sleep', '30'] });
    await e.containers.start(rm1.Id);
    await e.containers.start(kept.Id);
    // `volatile`, shown as `fsync=volatile` by Linux 6.x
    const isVolatile = (o: string[]) => o.includes('volatile') || o.includes('fsync=volatile');
    expect(isVolatile(await superOptions(rm1.Id))).toBe(true);
    expect(await superOptions(kept.Id)).toContain(
      `upperdir=${(await e.containers.inspect(kept.Id)).GraphDriver.Data?.UpperDir}`,
    );
    expect(isVolatile(await superOptions(kept.Id))).toBe(false);
  });

  it('makes a new root and its containers/ and shims/ Orlov top directories where ext4 keeps the flag', async () => {
    const base = await mkdtemp(`/tmp/bt${process.pid}-`);
    roots.push(base);
    const root = join(base, 'r');
    const e = await createEngine({ root, runRoot: join(base, 'run') });
    engines.push(e);
    await e.containers.list({ all: true });
    // shims/ sits beside the records while its socket paths fit, else under the run root
    const shims = existsSync(join(root, 'shims')) ? join(root, 'shims') : join(base, 'run', 'shims');
    const flags = (dir: string) => execFileSync('lsattr', ['-d', dir], { encoding: 'utf8' }).split(' ')[0];
    // ext2/3/4 keep FS_TOPDIR_FL (chattr +T); other file systems refuse it and berth carries on
    for (const dir of [root, join(root, 'containers'), shims])
      if (statfsSync(dir).type === 0xef53) expect(flags(dir)).toContain('T');
      else expect(existsSync(dir)).toBe(true);
  });

  it("keeps a running container's host files to the documented set (each one a create per start)", async () => {
    const e = await engine();
    const { Id } = await e.containers.create({ image: 'busybox', cmd: ['sleep', '30'] });
    await e.containers.start(Id);
    // engine README, "On disk": the lock is the directory itself, berth-shim writes no pid file;
    // the record's second write (the start) made its spare, which later writes reuse
    expect((await readdir(join(e.root, 'containers', Id))).sort()).toEqual([
      'config.json',
      'config.v2.json',
      'config.v2.json.spare',
      'hostname',
      'hosts',
      'resolv.conf',
      'rootfs',
    ]);
    const shims = existsSync(join(e.root, 'shims')) ? join(e.root, 'shims') : join(e.root, 'run', 'shims');
    // sorted both sides: an ID starting with d, e or f sorts after control.sock
    expect((await readdir(join(shims, Id))).sort()).toEqual(
      [`${Id}-json.log`, 'control.sock', 'launch', 'shim.log', 'state.json'].sort(),
    );
  });

  it('creates, starts, logs, waits, inspects and removes a container', async () => {
    const e = await engine();
    const { Id, Name } = await e.containers.create({
      image: 'busybox',
      cmd: ['sh', '-c', 'echo out; echo err >&2; hostname; cat /etc/hosts | head -1; exit 3'],
      labels: { a: 'b' },
    });
    expect(Id).toMatch(/^[0-9a-f]{64}$/);
    expect(Name).toMatch(/^[a-z]+_[a-z]+\d?$/);
    let ins = await e.containers.inspect(Name);
    expect(ins.State.Status).toBe('created');
    expect(ins.Name).toBe(`/${Name}`);
    expect(ins.Path).toBe('sh');
    await e.containers.start(Id.slice(0, 12));
    const w = await e.containers.wait(Id);
    expect(w.StatusCode).toBe(3);
    ins = await e.containers.inspect(Id);
    expect(ins.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 3 });
    expect(ins.State.FinishedAt).not.toBe('0001-01-01T00:00:00Z');
    const logs = await collect(await e.containers.logs(Id));
    // two pipes: order across streams is not kept (as in docker), within a stream it is
    expect(logs.filter((l) => l.stream === 'stdout').map((l) => l.log)).toEqual([
      'out\n',
      `${Id.slice(0, 12)}\n`,
      '127.0.0.1\tlocalhost\n',
    ]);
    expect(logs.filter((l) => l.stream === 'stderr').map((l) => l.log)).toEqual(['err\n']);
    // the last line of the whole log, whichever stream the shim read last (a loaded machine can
    // leave both pipes full until the container is done)
    expect((await collect(await e.containers.logs(Id, { tail: 1 }))).map((l) => l.log)).toEqual([
      logs.at(-1)?.log,
    ]);
    expect((await collect(await e.containers.logs(Id, { stdout: false }))).map((l) => l.log)).toEqual([
      'err\n',
    ]);
    // settled: no mount, no shim directory
    expect(await mounted(join(e.root, 'containers', Id, 'rootfs'))).toBe(false);
    const ps = await e.containers.list({ all: true });
    expect(
      ps.map((c) => [c.Names[0], c.State, c.Status.replace(/\d+ seconds?|Less than a second/, 'N')]),
    ).toEqual([[`/${Name}`, 'exited', 'Exited (3) N ago']]);
    expect(await e.containers.list()).toEqual([]);
    expect(await e.containers.list({ all: true, filters: { label: ['a=b'] } })).toHaveLength(1);
    expect(await e.containers.list({ all: true, filters: { exited: ['0'] } })).toHaveLength(0);
    await e.containers.remove(Name);
    await expect(stat(join(e.root, 'containers', Id))).rejects.toThrow();
    await expect(e.containers.inspect(Id)).rejects.toSatisfy((err) =>
      isBerthError(err, 'CONTAINER_NOT_FOUND'),
    );
  });

  it('wait with remove: waits for a running container, answers its exit and removes it', async () => {
    const e = await engine();
    const { Id } = await e.containers.create({
      image: 'busybox',
      cmd: ['sh', '-c', 'sleep 0.3; exit 5'],
      autoRemove: true,
    });
    await e.containers.start(Id, { attached: true });
    // still running when asked: the answer comes after its exit, with the container gone
    expect(await e.containers.wait(Id, { settle: false, remove: true })).toEqual({
      StatusCode: 5,
      Error: null,
    });
    await expect(stat(join(e.root, 'containers', Id))).rejects.toThrow();
    expect(await mounted(join(e.root, 'containers', Id, 'rootfs'))).toBe(false);
    // exited before it is asked: the same, from the exit berth-shim recorded
    const done = await e.containers.create({
      image: 'busybox',
      cmd: ['sh', '-c', 'exit 7'],
      autoRemove: true,
    });
    await e.containers.start(done.Id, { attached: true });
    for await (const _ of await e.containers.logs(done.Id, { follow: true })) void _;
    expect(await e.containers.wait(done.Id, { settle: false, remove: true })).toEqual({
      StatusCode: 7,
      Error: null,
    });
    expect(await e.containers.list({ all: true })).toEqual([]);
    const events = (await readFile(join(e.root, 'events.log'), 'utf8')).split('\n').filter(Boolean);
    const mine = events
      .map((l) => JSON.parse(l))
      .filter((ev) => ev.id === done.Id)
      .map((ev) => ev.Action ?? ev.status);
    expect(mine.slice(-2)).toEqual(['die', 'destroy']);
    // removed under it by someone else's rm -f: the code of its `die` event, 137, as docker's run
    const other = await e.containers.create({ image: 'busybox', cmd: ['sleep', '30'], autoRemove: true });
    await e.containers.start(other.Id, { attached: true });
    const waiting = e.containers.wait(other.Id, { settle: false, remove: true });
    await e.containers.remove(other.Id, { force: true });
    expect(await waiting).toEqual({ StatusCode: 137, Error: null });
  });

  it('runs detached, stops with the stop signal, restarts and keeps the logs of every run', async () => {
    const e = await engine();
    const { Id } = await e.containers.create({
      image: 'busybox',
      cmd: ['sh', '-c', 'trap "echo bye; exit 0" TERM; echo up; while true; do sleep 0.1; done'],
      name: 'web',
    });
    await e.containers.start('web');
    let ins = await e.containers.inspect('web');
    expect(ins.State).toMatchObject({ Status: 'running', Running: true });
    expect(ins.State.Pid).toBeGreaterThan(0);
    await expect(e.containers.remove('web')).rejects.toSatisfy((err) =>
      isBerthError(err, 'CONTAINER_RUNNING'),
    );
    // wait until the trap is set
    for (let i = 0; i < 100; i++) {
      if ((await collect(await e.containers.logs(Id))).length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await e.containers.stop('web', { timeout: 10 });
    ins = await e.containers.inspect('web');
    expect(ins.State).toMatchObject({ Status: 'exited', ExitCode: 0 });
    await e.containers.restart('web', { timeout: 0 });
    expect((await e.containers.inspect('web')).State.Status).toBe('running');
    // wait until the second run printed (a start returns at its exec, before its first line)
    for (let i = 0; i < 100; i++) {
      if ((await collect(await e.containers.logs(Id))).length >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await e.containers.kill('web');
    expect((await e.containers.wait('web')).StatusCode).toBe(137);
    const logs = (await collect(await e.containers.logs('web'))).map((l) => l.log);
    expect(logs).toEqual(['up\n', 'bye\n', 'up\n']);
    await expect(e.containers.kill('web')).rejects.toSatisfy((err) =>
      isBerthError(err, 'CONTAINER_NOT_RUNNING'),
    );
  });

  it('names: conflicts, rename, lookup by prefix', async () => {
    const e = await engine();
    const a = await e.containers.create({ image: 'busybox', cmd: ['true'], name: 'one' });
    await expect(e.containers.create({ image: 'busybox', cmd: ['true'], name: 'one' })).rejects.toSatisfy(
      (err) => isBerthError(err, 'CONTAINER_NAME_CONFLICT'),
    );
    await expect(
      e.containers.create({ image: 'busybox', cmd: ['true'], name: 'bad name' }),
    ).rejects.toSatisfy((err) => isBerthError(err, 'INVALID_OPTION'));
    await e.containers.rename('one', 'two');
    expect((await e.containers.inspect('two')).Id).toBe(a.Id);
    await expect(e.containers.inspect('one')).rejects.toSatisfy((err) =>
      isBerthError(err, 'CONTAINER_NOT_FOUND'),
    );
    const b = await e.containers.create({ image: 'busybox', cmd: ['true'], name: 'one' });
    expect(b.Id).not.toBe(a.Id);
    expect((await e.containers.inspect(b.Id.slice(0, 10))).Name).toBe('/one');
    // a prefix both share (the empty one aside) is ambiguous unless they differ at once
    let common = 0;
    while (a.Id[common] === b.Id[common]) common++;
    if (common > 0)
      await expect(e.containers.inspect(a.Id.slice(0, common))).rejects.toSatisfy((err) =>
        isBerthError(err, 'CONTAINER_AMBIGUOUS'),
      );
    await expect(e.containers.inspect('nope')).rejects.toSatisfy((err) =>
      isBerthError(err, 'CONTAINER_NOT_FOUND'),
    );
  });

  it('reports a missing command as EXEC_NOT_FOUND and keeps the container as created with 127', async () => {
    const e = await engine();
    const { Id } = await e.containers.create({ image: 'busybox', cmd: ['/no/such/thing'] });
    await expect(e.containers.start(Id)).rejects.toSatisfy((err) => isBerthError(err, 'EXEC_NOT_FOUND'));
    const ins = await e.containers.inspect(Id);
    expect(ins.State).toMatchObject({ Status: 'created', ExitCode: 127 });
    expect(await mounted(join(e.root, 'containers', Id, 'rootfs'))).toBe(false);
  });

  it('--privileged grants the engine bounding set and lifts the mount denial', async () => {
    const e = await engine();
    const bounding = /^CapBnd:\s*(\S+)$/m.exec(await readFile('/proc/self/status', 'utf8'))![1];
    const { Id } = await e.containers.create({
      image: 'busybox',
      cmd: [
        'sh',
        '-c',
        'grep CapEff /proc/self/status; mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted',
      ],
      privileged: true,
    });
    await e.containers.start(Id);
    expect((await e.containers.wait(Id)).StatusCode).toBe(0);
    expect((await collect(await e.containers.logs(Id))).map((l) => l.log).join('')).toBe(
      `CapEff:\t${bounding}\nmounted\n`,
    );
  });

  it('applies flags: env, workdir, user, hostname, read-only, network none with lo up, host network', async () => {
    const e = await engine();
    const { Id } = await e.containers.create({
      image: 'busybox',
      cmd: [
        'sh',
        '-c',
        'echo $FOO $BAR; pwd; id -u; hostname; touch /x 2>/dev/null || echo ro; ip link show lo | grep -c UP',
      ],
      env: ['FOO=1', 'BAR'],
      envLookup: (n) => (n === 'BAR' ? 'two' : undefined),
      workdir: '/tmp',
      user: '1234',
      hostname: 'box',
      readOnly: true,
    });
    await e.containers.start(Id);
    expect((await e.containers.wait(Id)).StatusCode).toBe(0);
    expect((await collect(await e.containers.logs(Id))).map((l) => l.log).join('')).toBe(
      '1 two\n/tmp\n1234\nbox\nro\n1\n',
    );
  });
});
