import { eachContainer } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth stop [-t SECONDS] [-s SIGNAL] CONTAINER...`: stop signal, then SIGKILL after the timeout. */
export async function run(ctx: CommandContext): Promise<number> {
  const timeout = ctx.flags.changed('time') ? ctx.flags.number('time') : undefined;
  return withEngine(ctx, (engine) =>
    eachContainer(ctx, async (ref) => {
      await engine.containers.stop(ref, timeout === undefined ? {} : { timeout });
      return `${ref}\n`;
    }),
  );
}
