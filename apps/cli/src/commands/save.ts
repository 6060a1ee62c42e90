import { BerthError } from '@berth/oci';
import { writeArchive } from './archive-output.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth save [-o FILE] [--format docker|oci] IMAGE...`. */
export async function run(ctx: CommandContext): Promise<number> {
  const output = ctx.flags.string('output');
  const format = ctx.flags.string('format') || 'docker';
  if (format !== 'docker' && format !== 'oci') {
    throw new BerthError(
      'INVALID_OPTION',
      `invalid save format ${JSON.stringify(format)}: use docker or oci`,
      {
        input: { field: 'format' },
      },
    );
  }
  await writeArchive(ctx, output, (out) =>
    withEngine(ctx, (engine) => engine.images.save(ctx.args, { output: out, format })),
  );
  return 0;
}
