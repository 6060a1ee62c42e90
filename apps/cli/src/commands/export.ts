import { writeArchive } from './archive-output.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth export [-o FILE] CONTAINER`: a tar of the container's filesystem; never to a terminal. */
export async function run(ctx: CommandContext): Promise<number> {
  const ref = ctx.args[0] as string;
  await writeArchive(ctx, ctx.flags.string('output'), (output) =>
    withEngine(ctx, (engine) => engine.containers.export(ref, { output })),
  );
  return 0;
}
