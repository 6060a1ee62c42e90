/**
 * `docker pause` / `docker unpause`: the runtime's freezer (cgroup v1 freezer.state, v2
 * cgroup.freeze) stops every process of the container at once; the state reads `paused` from
 * the freezer itself, so `ps` shows `Up … (Paused)` from any process.
 */
import { BerthError } from '@berth/oci';
import { ContainerErrorCode } from './errors.js';
import type { ServiceInternals } from './internals.js';

/** Freezes a running container. @throws CONTAINER_NOT_RUNNING, CONTAINER_PAUSED */
export async function pauseContainer(s: ServiceInternals, ref: string, signal?: AbortSignal): Promise<void> {
  await s.locked(
    ref,
    async (rec, rt) => {
      const live = await s.liveState(rt, rec);
      if (!live.Running || live.Restarting)
        throw new BerthError(ContainerErrorCode.CONTAINER_NOT_RUNNING, `Container ${rec.Id} is not running`, {
          input: { ref },
        });
      if (live.Paused)
        throw new BerthError(ContainerErrorCode.CONTAINER_PAUSED, `Container ${rec.Id} is already paused`, {
          input: { ref },
        });
      await rt.pause(rec.Id, signal ? { signal } : {});
      await s.event(rec, 'pause');
    },
    signal,
  );
}

/** Thaws a paused container. @throws CONTAINER_NOT_PAUSED */
export async function unpauseContainer(
  s: ServiceInternals,
  ref: string,
  signal?: AbortSignal,
): Promise<void> {
  await s.locked(
    ref,
    async (rec, rt) => {
      const live = await s.liveState(rt, rec);
      if (!live.Paused)
        throw new BerthError(ContainerErrorCode.CONTAINER_NOT_PAUSED, `Container ${rec.Id} is not paused`, {
          input: { ref },
        });
      await rt.resume(rec.Id, signal ? { signal } : {});
      await s.event(rec, 'unpause');
    },
    signal,
  );
}
