import type { BenchContext, EngineName, Scenario } from '../scenario.js';
import { cmd, loadBusybox, runFlags } from './containers-support.js';

const COUNT = 50;

async function startAndRemove(ctx: BenchContext, engine: EngineName): Promise<void> {
  const outs = await Promise.all(
    Array.from({ length: COUNT }, () =>
      cmd(ctx, engine, ['run', '-d', ...runFlags(engine), 'busybox:latest', 'sleep', '100000']),
    ),
  );
  const ids = outs.map((o) => o.trim().split('\n').at(-1) ?? '');
  await cmd(ctx, engine, ['rm', '-f', ...(engine === 'podman' ? ['-t', '0'] : []), ...ids]);
}

/**
 * `start-50`: 50 `run -d busybox sleep` commands started at once from parallel processes, then
 * one `rm -f` of all of them; the wall time of both.
 */
export const start50: Scenario = {
  name: 'start-50',
  description: `${COUNT} parallel run -d busybox sleep, then rm -f of all: berth vs docker vs podman`,
  engines: ['berth', 'docker', 'podman'],
  target: 'berth/docker <= 0.25',
  async setup(ctx, engine) {
    await loadBusybox(ctx, engine);
  },
  step(ctx, engine) {
    return { run: () => startAndRemove(ctx, engine) };
  },
};
