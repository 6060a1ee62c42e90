import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`. */
export async function run(ctx: CommandContext): Promise<number> {
  await withEngine(ctx, (engine) => engine.images.tag(ctx.args[0] as string, ctx.args[1] as string));
  return 0;
}
