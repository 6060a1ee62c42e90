import type { BenchContext, EngineName, Scenario } from '../scenario.js';
import { cli, cmd, envFor, loadBusybox, runFlags } from './containers-support.js';

const names = new Map<EngineName, string>();

/**
 * `exec-true`: `exec CONTAINER true` in one running busybox container, as a person types it:
 * the CLI's start, finding the container, the new process joining its namespaces and cgroup,
 * its exit code back. berth vs docker vs podman, each with its own container.
 */
export const execTrue: Scenario = {
  name: 'exec-true',
  description: 'exec CONTAINER true in a running busybox: berth vs docker vs podman',
  engines: ['berth', 'docker', 'podman'],
  async setup(ctx: BenchContext, engine: EngineName) {
    await loadBusybox(ctx, engine);
    const out = await cmd(ctx, engine, [
      'run',
      '-d',
      ...runFlags(engine),
      'busybox:latest',
      'sleep',
      '100000',
    ]);
    names.set(engine, out.trim().split('\n').at(-1) ?? '');
  },
  step(ctx, engine) {
    const env = envFor(ctx, engine);
    return { argv: [...cli(ctx, engine), 'exec', names.get(engine) ?? '', 'true'], ...(env ? { env } : {}) };
  },
  async teardown(ctx, engine) {
    const id = names.get(engine);
    if (id) await cmd(ctx, engine, ['rm', '-f', ...(engine === 'podman' ? ['-t', '0'] : []), id]);
  },
};
