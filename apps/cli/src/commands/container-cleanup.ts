import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth container cleanup ID` (hidden): berth-shim's exit hook. Records the exit (`die`),
 * removes a `--rm` container, applies the restart policy (podman's `container cleanup`).
 */
export async function run(ctx: CommandContext): Promise<number> {
  await withEngine(ctx, (engine) => engine.containers.handleExit(ctx.args[0] as string));
  return 0;
}
