import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import { isProcessStdout } from '../io.js';
import type { CommandContext } from './spec.js';

/**
 * Where `save` and `export` write their tar: `-o FILE` (written beside it, then renamed, so a
 * failure leaves no half file) or stdout, never a terminal (docker's refusal). A reader that
 * goes away (`berth export c | tar t | head`) ends the command quietly.
 */
export async function writeArchive(
  ctx: CommandContext,
  output: string,
  write: (out: Writable) => Promise<void>,
): Promise<void> {
  if (output === '') {
    if (ctx.io.stdout.isTTY === true)
      throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    // the real stdout (a stream or the direct writer) takes the tar as a stream, with its
    // backpressure; a test's captured output gets it as latin1 text
    const out = isProcessStdout(ctx.io.stdout)
      ? process.stdout
      : new Writable({
          write(chunk: Buffer, _enc, cb) {
            ctx.io.stdout.write(chunk.toString('latin1'));
            cb();
          },
        });
    try {
      await write(out);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw err;
    }
    return;
  }
  const tmp = `${output}.berth-${randomBytes(4).toString('hex')}.tmp`;
  const file = createWriteStream(tmp, { mode: 0o644 });
  try {
    await write(file);
    // a pipeline may have ended it already
    if (!file.writableEnded) file.end();
    await finished(file);
    await rename(tmp, output);
  } catch (err) {
    file.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}
