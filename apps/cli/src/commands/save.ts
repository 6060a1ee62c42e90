import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { BerthError } from '@berth/oci';
import { UsageError } from '../errors.js';
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
    await withEngine(ctx, (engine) => engine.images.save(ctx.args, { output: out, format }));
    return 0;
  }
  // write beside the target, then rename: a failed save leaves no half file
  const tmp = `${output}.berth-${randomBytes(4).toString('hex')}.tmp`;
  const file = createWriteStream(tmp, { mode: 0o644 });
  try {
    await withEngine(ctx, (engine) => engine.images.save(ctx.args, { output: file, format }));
    await new Promise<void>((resolve, reject) =>
      file.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    await rename(tmp, output);
  } catch (err) {
    file.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
  return 0;
}
