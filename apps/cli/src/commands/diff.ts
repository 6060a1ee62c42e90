import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

const KIND = ['C', 'A', 'D'] as const;

/** `berth diff CONTAINER`: `A`/`C`/`D` lines of the container's filesystem changes, docker's order. */
export async function run(ctx: CommandContext): Promise<number> {
  const changes = await withEngine(ctx, (engine) => engine.containers.changes(ctx.args[0] as string));
  ctx.io.stdout.write(changes.map((c) => `${KIND[c.Kind]} ${c.Path}\n`).join(''));
  return 0;
}
