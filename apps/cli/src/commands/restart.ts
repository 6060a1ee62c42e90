import { eachContainer } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth restart [-t SECONDS] CONTAINER...`. */
export async function run(ctx: CommandContext): Promise<number> {
  const timeout = ctx.flags.changed('time') ? ctx.flags.number('time') : undefined;
  return withEngine(ctx, (engine) =>
    eachContainer(ctx, async (ref) => {
      await engine.containers.restart(ref, timeout === undefined ? {} : { timeout });
      return `${ref}\n`;
    }),
  );
}
