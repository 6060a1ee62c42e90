import { eachContainer } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth kill [-s SIGNAL] CONTAINER...` (default SIGKILL). */
export async function run(ctx: CommandContext): Promise<number> {
  const signal = ctx.flags.string('signal') || 'KILL';
  return withEngine(ctx, (engine) =>
    eachContainer(ctx, async (ref) => {
      await engine.containers.kill(ref, { signal });
      return `${ref}\n`;
    }),
  );
}
