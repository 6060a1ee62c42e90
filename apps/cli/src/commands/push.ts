import { progressPrinter, withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth push [-q] NAME[:TAG]`. */
export async function run(ctx: CommandContext): Promise<number> {
  const quiet = ctx.flags.bool('quiet');
  const show = progressPrinter(ctx);
  const r = await withEngine(ctx, (engine) =>
    engine.images.push(ctx.args[0] as string, quiet ? {} : { onProgress: show }),
  );
  if (quiet) ctx.io.stdout.write(`${r.reference}\n`);
  return 0;
}
