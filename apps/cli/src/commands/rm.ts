import { eachContainer } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth rm [-f] [-v] CONTAINER...`. */
export async function run(ctx: CommandContext): Promise<number> {
  const force = ctx.flags.bool('force');
  const volumes = ctx.flags.bool('volumes');
  return withEngine(ctx, (engine) =>
    eachContainer(ctx, async (ref) => {
      await engine.containers.remove(ref, { force, volumes });
      return `${ref}\n`;
    }),
  );
}
