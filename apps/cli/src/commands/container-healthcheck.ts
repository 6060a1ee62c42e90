import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth container healthcheck ID` (hidden): berth-shim's health hook, one probe. Prints the
 * status and exits 0 when healthy (or starting), 1 otherwise, as `podman healthcheck run`.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const h = await withEngine(ctx, (engine) => engine.containers.healthcheck(ctx.args[0] as string));
  ctx.io.stdout.write(`${h?.Status ?? 'none'}\n`);
  return h && h.Status !== 'unhealthy' ? 0 : 1;
}
