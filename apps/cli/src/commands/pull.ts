import { parseReference } from '@berth/oci';
import { progressPrinter, withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth pull [-a] [-q] [--platform P] NAME[:TAG|@DIGEST]`. */
export async function run(ctx: CommandContext): Promise<number> {
  const name = ctx.args[0] as string;
  const quiet = ctx.flags.bool('quiet');
  const allTags = ctx.flags.bool('all-tags');
  const platform = ctx.flags.string('platform') || ctx.io.env.DOCKER_DEFAULT_PLATFORM || '';
  const ref = parseReference(name);
  const show = progressPrinter(ctx);
  if (!quiet && !allTags && ref.tag === undefined && ref.digest === undefined)
    ctx.io.stdout.write('Using default tag: latest\n');
  const results = await withEngine(ctx, (engine) =>
    engine.images.pull(name, {
      allTags,
      ...(platform === '' ? {} : { platform }),
      ...(quiet ? {} : { onProgress: show }),
    }),
  );
  for (const r of results) ctx.io.stdout.write(`${r.reference}\n`);
  return 0;
}
