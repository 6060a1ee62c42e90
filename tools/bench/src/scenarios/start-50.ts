import type { BenchContext, EngineName, Scenario } from '../scenario.js';
import { cmd, loadBusybox, runFlags } from './containers-support.js';

const COUNT = 50;
/** Marks the scenario's containers, so teardown finds what a failed or killed step left. */
const LABEL = 'berth-bench=start-50';

/** `rm -f` of containers (podman without its 10 s stop timeout, as docker's `rm -f` kills at once). */
const removeAll = (ctx: BenchContext, engine: EngineName, ids: string[]) =>
  cmd(ctx, engine, ['rm', '-f', ...(engine === 'podman' ? ['-t', '0'] : []), ...ids]);

async function startAndRemove(ctx: BenchContext, engine: EngineName): Promise<void> {
  const started = await Promise.allSettled(
    Array.from({ length: COUNT }, () =>
      cmd(ctx, engine, [
        'run',
        '-d',
        '--label',
        LABEL,
        ...runFlags(engine),
        'busybox:latest',
        'sleep',
        '100000',
      ]),
    ),
  );
  const ids = started.flatMap((s) =>
    s.status === 'fulfilled' ? [s.value.trim().split('\n').at(-1) ?? ''] : [],
  );
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    // the containers that did start would stay behind in the engine (and in a later docker
    // interop test's way): remove them before the scenario ends with the first error
    if (ids.length > 0) await removeAll(ctx, engine, ids).catch(() => {});
    throw failed.reason;
  }
  await removeAll(ctx, engine, ids);
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
  async teardown(ctx, engine) {
    // a step killed after STEP_TIMEOUT_MS (docker's `rm -f` has hung) leaves its containers
    const left = (await cmd(ctx, engine, ['ps', '-aq', '--filter', `label=${LABEL}`]))
      .split('\n')
      .filter(Boolean);
    if (left.length > 0) await removeAll(ctx, engine, left);
  },
};
