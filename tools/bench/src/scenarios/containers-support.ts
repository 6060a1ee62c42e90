import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildFixtures } from '@berth/fixtures';
import { type BenchContext, type EngineName, STEP_TIMEOUT_MS } from '../scenario.js';

/** Shared by the container scenarios: the busybox fixture loaded into each engine, argv helpers. */

export const run = promisify(execFile);

/** berth's private state root for a scenario. */
export const berthRoot = (ctx: BenchContext) => join(ctx.scratch, 'berth-root');

/** The argv prefix of an engine's CLI, with the flags this machine needs for podman. */
export function cli(ctx: BenchContext, engine: EngineName): string[] {
  if (engine === 'berth') return ctx.berth;
  if (engine === 'docker') return ctx.docker!;
  // crun 1.8 refuses hybrid cgroups here, and podman's default rlimits are above what root
  // without CAP_SYS_RESOURCE may set (see shim-rss); the container is the same either way
  return [...ctx.podman!, '--runtime', 'runc'];
}

/** Extra `run` flags an engine needs on this machine. */
export function runFlags(engine: EngineName): string[] {
  return engine === 'podman' ? ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'] : [];
}

/** Environment for an engine's commands. */
export function envFor(ctx: BenchContext, engine: EngineName): Record<string, string> | undefined {
  return engine === 'berth' ? { BERTH_ROOT: berthRoot(ctx) } : undefined;
}

/** `load -i` of the offline busybox fixture (docker-archive) into an engine; returns its name. */
export async function loadBusybox(ctx: BenchContext, engine: EngineName): Promise<string> {
  const fixtures = await buildFixtures();
  const archive = fixtures.images.busybox.dockerArchive;
  if (!archive) throw new Error('the busybox fixture has no docker-archive');
  const [bin, ...pre] = cli(ctx, engine);
  await run(bin!, [...pre, 'load', '-i', archive.path], {
    env: { ...process.env, ...(envFor(ctx, engine) ?? {}) },
    timeout: STEP_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  // docker and berth name it busybox:latest; podman prefixes localhost/ only for unqualified
  // names it created itself, and resolves docker.io/library/busybox:latest by short name
  return 'busybox:latest';
}

/** Runs an engine command, resolving with stdout. */
export async function cmd(ctx: BenchContext, engine: EngineName, args: string[]): Promise<string> {
  const [bin, ...pre] = cli(ctx, engine);
  const { stdout } = await run(bin!, [...pre, ...args], {
    env: { ...process.env, ...(envFor(ctx, engine) ?? {}) },
    maxBuffer: 16 * 1024 * 1024,
    timeout: STEP_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  return stdout;
}

/** VmRSS of a process, in KiB. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`pid ${pid}: no VmRSS`);
  return Number(m[1]);
}

/** The parent of a process. */
export function parentPid(pid: number): number {
  const m = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`pid ${pid}: no PPid`);
  return Number(m[1]);
}
