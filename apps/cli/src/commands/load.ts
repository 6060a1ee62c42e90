import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BerthError } from '@berth/oci';
import { progressPrinter, withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth load [-i FILE] [-q]`: a tar from a file or standard input. */
export async function run(ctx: CommandContext): Promise<number> {
  const input = ctx.flags.string('input');
  const quiet = ctx.flags.bool('quiet');
  let stream: Readable;
  if (input !== '') {
    // open first so a missing file is reported before the engine starts
    const fh = await open(input, 'r').catch((cause: unknown) => {
      throw new BerthError('INVALID_OPTION', `open ${input}: ${(cause as Error).message}`, {
        input: { field: 'input' },
        cause,
      });
    });
    await fh.close();
    stream = createReadStream(input);
  } else {
    if (process.stdin.isTTY)
      throw new BerthError('INVALID_OPTION', 'requested load from stdin, but stdin is empty');
    stream = process.stdin;
  }
  const show = progressPrinter(ctx);
  const r = await withEngine(ctx, (engine) =>
    engine.images.load({ input: stream, ...(quiet ? {} : { onProgress: show }) }),
  );
  for (const m of r.messages) ctx.io.stdout.write(`${m}\n`);
  return 0;
}
