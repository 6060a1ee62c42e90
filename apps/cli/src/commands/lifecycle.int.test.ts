/**
 * Restart policies, health checks, detached --rm and events, as a person sees them with no
 * daemon: the built `berth` binary in separate processes, berth-shim calling it back through its
 * exit and health hooks, containers killed from outside with kill(2), a reboot simulated by
 * killing the shims with SIGKILL. The bundle is used (not tsx) because the hooks start a CLI
 * process per exit and per probe; a stale bundle is rebuilt into a private directory first
 * (testing/cli-bundle.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliHarness, finish, until } from '../testing/cli-harness.js';

// short: berth-shim's sockets live under the root
const cli = cliHarness('bl');
const { berth, ok, start } = cli;

interface Inspected {
  Id: string;
  RestartCount: number;
  State: {
    Status: string;
    Running: boolean;
    Pid: number;
    ExitCode: number;
    Health?: { Status: string; FailingStreak: number; Log: { ExitCode: number }[] };
  };
}

async function inspect(ref: string): Promise<Inspected> {
  return (JSON.parse(await ok('inspect', ref)) as Inspected[])[0] as Inspected;
}

beforeAll(async () => {
  await cli.setup();
  await cli.loadBusybox();
}, 240_000);

afterEach(() => cli.removeContainers());

afterAll(() => cli.dispose());

/** The Actions (and exit codes) of a container's stored events, in order. */
async function actions(name: string, since: number): Promise<string[]> {
  const out = await ok(
    'events',
    '--since',
    String(since / 1000),
    '--until',
    String(Date.now() / 1000 + 0.001),
    '--filter',
    `container=${name}`,
    '--format',
    '{{.Action}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}',
  );
  return out.split('\n').filter(Boolean);
}

describe('restart policies with no daemon (berth-shim exit hook)', () => {
  it('on-failure:2 restarts twice, then stays exited with the code; events show each run', async () => {
    const t0 = Date.now();
    await ok(
      'run',
      '-d',
      '--name',
      'lc-onfail',
      '--restart',
      'on-failure:2',
      'busybox',
      'sh',
      '-c',
      'exit 3',
    );
    const done = await until(async () => {
      const c = await inspect('lc-onfail');
      return c.RestartCount === 2 && c.State.Status === 'exited' ? c : undefined;
    }, 'two restarts');
    expect(done.State.ExitCode).toBe(3);
    // no third run
    await new Promise((r) => setTimeout(r, 1500));
    expect(await inspect('lc-onfail')).toMatchObject({
      RestartCount: 2,
      State: { Status: 'exited', ExitCode: 3 },
    });
    expect((await ok('ps', '-a', '--filter', 'name=lc-onfail', '--format', '{{.Status}}')).trim()).toMatch(
      /^Exited \(3\) /,
    );
    expect(await actions('lc-onfail', t0)).toEqual([
      'create',
      'start',
      'die 3',
      'start',
      'die 3',
      'start',
      'die 3',
    ]);
    // docker's message shape with --format '{{json .}}'
    const first = JSON.parse(
      (
        await ok(
          'events',
          '--since',
          String(t0 / 1000),
          '--until',
          String(Date.now() / 1000),
          '--format',
          '{{json .}}',
        )
      ).split('\n')[0] as string,
    );
    expect(first).toMatchObject({
      status: 'create',
      id: done.Id,
      from: 'busybox',
      Type: 'container',
      Action: 'create',
      Actor: { ID: done.Id, Attributes: { image: 'busybox', name: 'lc-onfail' } },
      scope: 'local',
    });
  }, 60_000);

  it('always brings a container killed from outside back; stop keeps it stopped; system boot starts it', async () => {
    await ok('run', '-d', '--name', 'lc-always', '--restart', 'always', 'busybox', 'sleep', '1000');
    const before = await until(async () => {
      const c = await inspect('lc-always');
      return c.State.Running ? c : undefined;
    }, 'running');
    process.kill(before.State.Pid, 'SIGKILL');
    const back = await until(async () => {
      const c = await inspect('lc-always');
      return c.State.Running && c.State.Pid !== before.State.Pid ? c : undefined;
    }, 'the restart');
    expect(back.RestartCount).toBe(1);
    expect(existsSync(`/proc/${back.State.Pid}`)).toBe(true);

    await ok('stop', '-t', '0', 'lc-always');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await inspect('lc-always')).toMatchObject({
      RestartCount: 1,
      State: { Status: 'exited', Running: false },
    });
    expect((await ok('ps', '-q', '--filter', 'name=lc-always')).trim()).toBe('');

    // docker's daemon start: `always` comes back even after a user's stop
    expect((await ok('system', 'boot')).trim()).toBe(back.Id);
    expect((await inspect('lc-always')).State.Running).toBe(true);
  }, 60_000);

  it('after a simulated reboot (shims killed), system boot starts unless-stopped and leaves no alone', async () => {
    const keep = (await ok('run', '-d', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000')).trim();
    const plain = (await ok('run', '-d', 'busybox', 'sleep', '1000')).trim();
    for (const id of [keep, plain]) {
      const c = await inspect(id);
      const shimPid = JSON.parse(await readFile(join(cli.root, 'shims', id, 'state.json'), 'utf8'))
        .shimPid as number;
      process.kill(shimPid, 'SIGKILL');
      process.kill(c.State.Pid, 'SIGKILL');
    }
    await until(async () => ((await ok('ps', '-q')).trim() === '' ? true : undefined), 'both down');
    expect((await ok('system', 'boot')).trim()).toBe(keep);
    expect((await inspect(keep)).State.Running).toBe(true);
    expect((await inspect(plain)).State).toMatchObject({ Status: 'exited', Running: false });
  }, 60_000);

  it('run -d --rm removes the container when it exits, with its events', async () => {
    const t0 = Date.now();
    const id = (
      await ok('run', '-d', '--rm', '--name', 'lc-rm', 'busybox', 'sh', '-c', 'sleep 0.3; exit 4')
    ).trim();
    await until(async () => ((await berth('inspect', id)).code === 1 ? true : undefined), 'the removal');
    expect((await berth('inspect', 'lc-rm')).stderr).toContain('No such object: lc-rm');
    expect(await actions('lc-rm', t0)).toEqual(['create', 'start', 'die 4', 'destroy']);
  }, 30_000);
});

describe('health checks (berth-shim health hook)', () => {
  it('turns unhealthy, then healthy after `exec touch`: inspect, ps and events', async () => {
    const t0 = Date.now();
    await ok(
      'run',
      '-d',
      '--name',
      'lc-health',
      '--health-cmd',
      'test -f /tmp/ok',
      '--health-interval',
      '1s',
      '--health-retries',
      '1',
      'busybox',
      'sleep',
      '1000',
    );
    expect((await ok('ps', '--filter', 'name=lc-health', '--format', '{{.Status}}')).trim()).toMatch(
      /^Up .*\((health: starting|unhealthy)\)$/,
    );
    await until(
      async () => ((await ok('ps', '-q', '--filter', 'health=unhealthy')).trim() ? true : undefined),
      'unhealthy',
    );
    expect((await ok('ps', '--filter', 'name=lc-health', '--format', '{{.Status}}')).trim()).toMatch(
      /^Up .* \(unhealthy\)$/,
    );
    await ok('exec', 'lc-health', 'touch', '/tmp/ok');
    const healthy = await until(async () => {
      const c = await inspect('lc-health');
      return c.State.Health?.Status === 'healthy' ? c : undefined;
    }, 'healthy');
    expect(healthy.State.Health?.FailingStreak).toBe(0);
    expect(healthy.State.Health?.Log.at(-1)?.ExitCode).toBe(0);
    expect(healthy.State.Health?.Log.some((l) => l.ExitCode === 1)).toBe(true);
    expect(healthy.State.Health?.Log.length).toBeLessThanOrEqual(5);
    expect((await ok('ps', '--filter', 'name=lc-health', '--format', '{{.Status}}')).trim()).toMatch(
      /^Up .* \(healthy\)$/,
    );
    expect((await ok('ps', '-q', '--filter', 'health=unhealthy')).trim()).toBe('');
    const events = await actions('lc-health', t0);
    expect(events.filter((a) => a.startsWith('health_status'))).toEqual([
      'health_status: unhealthy',
      'health_status: healthy',
    ]);
    expect(events.filter((a) => a.startsWith('exec_'))).toEqual([
      'exec_create: touch /tmp/ok',
      'exec_start: touch /tmp/ok',
      'exec_die 0',
    ]);
    expect((await berth('ps', '--filter', 'health=bogus')).code).toBe(125);
  }, 60_000);
});

describe('berth events', () => {
  it('follows live events until Ctrl-C', async () => {
    const t0 = Date.now();
    const follower = start([
      'events',
      '--since',
      String(t0 / 1000),
      '--filter',
      'container=lc-live',
      '--format',
      '{{.Type}} {{.Action}}',
    ]);
    const done = finish(follower);
    let seen = '';
    follower.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
    });
    expect((await berth('run', '--rm', '--name', 'lc-live', 'busybox', 'sh', '-c', 'exit 2')).code).toBe(2);
    await until(async () => (seen.includes('destroy') ? true : undefined), 'the destroy event', 10_000);
    follower.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'container create',
      'container start',
      'container die',
      'container destroy',
    ]);
    expect((await berth('events', '--filter', 'bogus=1', '--until', '0s')).code).toBe(125);
  }, 30_000);
});

describe('run --init', () => {
  it('runs berth-init as PID 1 at /sbin/docker-init, which forwards the SIGTERM of stop', async () => {
    // PID 1 is the init, the command its child with no signal blocked
    const out = await ok(
      'run',
      '--rm',
      '--init',
      'busybox',
      'sh',
      '-c',
      'tr "\\0" " " </proc/1/cmdline; echo; grep SigBlk /proc/self/status',
    );
    expect(out).toMatch(/^\/sbin\/docker-init -- sh -c /);
    expect(out).toMatch(/^SigBlk:\s+0+$/m);
    // `sleep` as PID 1 ignores SIGTERM (stop would end in SIGKILL, 137); under the init it dies of it
    const id = (await ok('run', '-d', '--init', '--name', 'lc-init', 'busybox', 'sleep', '1000')).trim();
    await ok('stop', '-t', '60', id);
    const state = await inspect(id);
    expect(state.State.ExitCode).toBe(143);
    expect(JSON.parse(await ok('inspect', '--format', '{{json .HostConfig.Init}}', id))).toBe(true);
    // without --init docker leaves HostConfig.Init out
    const plain = (await ok('create', 'busybox', 'true')).trim();
    expect((await ok('inspect', '--format', '{{json .HostConfig.Init}}', plain)).trim()).toBe('null');
  }, 60_000);
});
