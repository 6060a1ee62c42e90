import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { UsageError } from '../errors.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth export [-o FILE] CONTAINER`: a tar of the container's filesystem; never to a terminal. */
export async function run(ctx: CommandContext): Promise<number> {
  const ref = ctx.args[0] as string;
  const output = ctx.flags.string('output');
  if (output === '') {
    if (ctx.io.stdout.isTTY === true)
      throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const out =
      ctx.io.stdout === process.stdout
        ? process.stdout
        : new Writable({
            write(chunk: Buffer, _enc, cb) {
              ctx.io.stdout.write(chunk.toString('latin1'));
              cb();
            },
          });
    try {
      await withEngine(ctx, (engine) => engine.containers.export(ref, { output: out }));
    } catch (err) {
      // the reader went away (`berth export c | tar t | head`): nothing more to say
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw err;
    }
    return 0;
  }
  // beside the target, then rename: a failed export leaves no half file
  const tmp = `${output}.berth-${randomBytes(4).toString('hex')}.tmp`;
  const file = createWriteStream(tmp, { mode: 0o644 });
  try {
    await withEngine(ctx, (engine) => engine.containers.export(ref, { output: file }));
    await rename(tmp, output);
  } catch (err) {
    file.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
  return 0;
}
