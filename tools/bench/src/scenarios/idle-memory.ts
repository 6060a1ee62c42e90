import type { BenchContext, EngineName, Scenario } from '../scenario.js';
import { cmd, loadBusybox, parentPid, rssKiB, runFlags } from './containers-support.js';

const started: Partial<Record<EngineName, string[]>> = {};

/** Memory of what supervises one idle container: the parent of its init (berth-shim, conmon, containerd-shim). */
async function oneMore(ctx: BenchContext, engine: EngineName): Promise<number> {
  const out = await cmd(ctx, engine, ['run', '-d', ...runFlags(engine), 'busybox:latest', 'sleep', '100000']);
  const id = out.trim().split('\n').at(-1) ?? '';
  started[engine] = [...(started[engine] ?? []), id];
  await new Promise((r) => setTimeout(r, 300));
  const pid = Number((await cmd(ctx, engine, ['inspect', '--format', '{{.State.Pid}}', id])).trim());
  // berth: the shim is the only per-container process; docker and podman: the same rule
  return rssKiB(parentPid(pid));
}

/**
 * `idle-memory`: resident memory per idle container through each engine's own CLI (`run -d
 * busybox sleep`): the process that supervises it (berth-shim; conmon; containerd-shim-runc-v2),
 * sampled as more containers start and stay up.
 */
export const idleMemory: Scenario = {
  name: 'idle-memory',
  description:
    'RSS of the per-container supervisor of an idle container: berth-shim vs conmon vs containerd-shim',
  engines: ['berth', 'docker', 'podman'],
  unit: 'KiB',
  target: 'berth <= conmon (podman) and <= 1/6 of containerd-shim (docker)',
  async setup(ctx, engine) {
    await loadBusybox(ctx, engine);
  },
  step(ctx, engine) {
    return { run: () => oneMore(ctx, engine) };
  },
  async teardown(ctx, engine) {
    const ids = started[engine]?.splice(0) ?? [];
    if (ids.length) await cmd(ctx, engine, ['rm', '-f', ...ids]).catch(() => {});
  },
};
