import { eachContainer } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth wait CONTAINER...`: prints each container's exit code once it stops. */
export async function run(ctx: CommandContext): Promise<number> {
  return withEngine(ctx, (engine) =>
    eachContainer(ctx, async (ref) => {
      const { StatusCode } = await engine.containers.wait(ref);
      return `${StatusCode}\n`;
    }),
  );
}
