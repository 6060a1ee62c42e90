import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth commit [-a AUTHOR] [-m MESSAGE] [-c CHANGE]... [--pause=false] CONTAINER [REPO[:TAG]]`:
 * prints the new image's ID, as docker does.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const [ref, reference] = ctx.args as [string, string | undefined];
  const f = ctx.flags;
  const id = await withEngine(ctx, (engine) =>
    engine.containers.commit(ref, {
      ...(reference ? { reference } : {}),
      ...(f.string('author') ? { author: f.string('author') } : {}),
      ...(f.string('message') ? { comment: f.string('message') } : {}),
      changes: f.list('change'),
      pause: f.bool('pause'),
    }),
  );
  ctx.io.stdout.write(`${id}\n`);
  return 0;
}
