import { chmod } from 'node:fs/promises';
import type { Scenario } from '../scenario.js';
import { cli, envFor, loadBusybox, runFlags } from './containers-support.js';

/** The map both engines get: container 0..65535 on host 200000.. (podman's and berth's flag). */
const UIDMAP = '0:200000:65536';

/**
 * `run-rm-userns`: `run --rm --uidmap 0:200000:65536 busybox true`, berth vs podman (docker has
 * no per-container maps, only its daemon-wide userns-remap). berth idmaps the image layers at
 * each start; podman makes (once, then reuses) a copy of the image chowned for the map, or idmaps
 * where its storage can.
 */
export const runRmUserns: Scenario = {
  name: 'run-rm-userns',
  description: 'run --rm --uidmap 0:200000:65536 busybox true: berth vs podman (same fixture image)',
  engines: ['berth', 'podman'],
  target: 'berth/podman <= 0.5 (as run-rm)',
  async setup(ctx, engine) {
    // the container's root is host uid 200000: it must be able to reach berth's root (runc's rule)
    await chmod(ctx.scratch, 0o711);
    await loadBusybox(ctx, engine);
  },
  step(ctx, engine) {
    const env = envFor(ctx, engine);
    return {
      argv: [
        ...cli(ctx, engine),
        'run',
        '--rm',
        '--uidmap',
        UIDMAP,
        ...runFlags(engine),
        'busybox:latest',
        'true',
      ],
      ...(env ? { env } : {}),
    };
  },
};
