import type { Scenario } from '../scenario.js';
import { cli, envFor, loadBusybox, runFlags } from './containers-support.js';

/**
 * `run-rm`: `berth run --rm busybox true` vs `docker run --rm` vs `podman run --rm` of the same
 * image (the offline busybox fixture, loaded into each engine first): create, start, wait for the
 * exit, remove, as one command a person types.
 */
export const runRm: Scenario = {
  name: 'run-rm',
  description: 'run --rm busybox true: berth vs docker vs podman (same fixture image)',
  engines: ['berth', 'docker', 'podman'],
  target: 'berth/docker <= 0.25 and berth/podman <= 0.5',
  async setup(ctx, engine) {
    await loadBusybox(ctx, engine);
  },
  step(ctx, engine) {
    const env = envFor(ctx, engine);
    return {
      argv: [...cli(ctx, engine), 'run', '--rm', ...runFlags(engine), 'busybox:latest', 'true'],
      ...(env ? { env } : {}),
    };
  },
};
