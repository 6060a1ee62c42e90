import { eachContainer } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth pause CONTAINER...` and `berth unpause CONTAINER...`: the cgroup freezer, docker's output. */
export async function run(ctx: CommandContext): Promise<number> {
  const unpause = ctx.commandPath.endsWith('unpause');
  return withEngine(ctx, (engine) =>
    eachContainer(ctx, async (ref) => {
      await (unpause ? engine.containers.unpause(ref) : engine.containers.pause(ref));
      return `${ref}\n`;
    }),
  );
}
