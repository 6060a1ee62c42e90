import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth rename CONTAINER NEW_NAME`. */
export async function run(ctx: CommandContext): Promise<number> {
  const [ref, name] = ctx.args as [string, string];
  await withEngine(ctx, (engine) => engine.containers.rename(ref, name));
  return 0;
}
