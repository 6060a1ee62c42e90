/**
 * The container tools of issue 6 as a person runs them, each `berth` a separate process (from
 * source, via tsx) over one private state root: pause/unpause (a counter stops and resumes),
 * top, port, stats, diff, export, commit, info and system prune, checked against what the host
 * sees (the container's files, its processes, the kernel's cgroup).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixtures } from '@berth/fixtures';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const cliDir = fileURLToPath(new URL('../..', import.meta.url));
let root: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--conditions=@berth/source', 'src/main.ts', ...args], {
    cwd: cliDir,
    env: { ...process.env, BERTH_ROOT: root, NO_COLOR: '1' },
    stdio: [stdin, 'pipe', 'pipe'],
  });
}

function finish(child: ChildProcess): Promise<Result> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const berth = (...args: string[]) => finish(start(args));

async function ok(...args: string[]): Promise<string> {
  const r = await berth(...args);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  const fixtures = await buildFixtures();
  root = await mkdtemp(`/tmp/btools${process.pid}-`);
  const archive = fixtures.images.busybox.dockerArchive;
  if (!archive) throw new Error('the busybox fixture has no docker-archive');
  await ok('load', '-i', archive.path);
}, 180_000);

afterEach(async () => {
  const ids = (await berth('ps', '-aq', '--no-trunc')).stdout.split('\n').filter(Boolean);
  if (ids.length) await berth('rm', '-f', ...ids);
});

afterAll(async () => {
  const ids = (await berth('ps', '-aq', '--no-trunc')).stdout.split('\n').filter(Boolean);
  if (ids.length) await berth('rm', '-f', ...ids);
  for (const l of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').reverse()) {
    const mp = l.split(' ')[4];
    if (mp?.startsWith(root)) await finish(spawn('umount', ['-l', mp]));
  }
  await rm(root, { recursive: true, force: true });
});

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
    expect(top.some((l) => l.includes('vitest') || l.includes('src/main.ts'))).toBe(false);
    const initPid = (await ok('inspect', '-f', '{{.State.Pid}}', name)).trim();
    expect(top.some((l) => l.split(/\s+/)[1] === initPid)).toBe(true);
    const pidComm = (await ok('top', name, '-o', 'pid,comm')).split('\n').filter(Boolean);
    expect(pidComm[0]).toMatch(/^PID\s+COMMAND$/);
    expect(pidComm.some((l) => /^\d+\s+sleep$/.test(l))).toBe(true);

    // pause: the counter stops; ps and inspect say so; a second pause is refused
    expect(await ok('pause', name)).toBe(`${name}\n`);
    const frozen = await counter();
    await sleep(400);
    expect(await counter()).toBe(frozen);
    expect(await ok('ps', '--format', '{{.Status}}')).toMatch(/^Up .* \(Paused\)\n$/);
    expect(await ok('inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', name)).toBe(
      'paused true true\n',
    );
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
    expect(p80.stderr).toBe(`Error: No public port '80/tcp' published for ${name}\n`);

    // kill of a paused container: SIGKILL is delivered once it is thawed (docker's order)
    await ok('pause', name);
    await ok('kill', name);
    expect(await ok('wait', name)).toBe('137\n');
    const stopped = await berth('top', name);
    expect(stopped.code).toBe(125);
    expect(stopped.stderr).toMatch(/is not running/);
    expect((await berth('pause', name)).stderr).toMatch(/is not running/);
  });
});
