import { writeFile } from 'node:fs/promises';
import { BerthError } from '@berth/oci';
import { createOptions } from './container-options.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** Writes `--cidfile` (refused when it exists, as docker). */
export async function writeCidFile(path: string, id: string): Promise<void> {
  try {
    await writeFile(path, id, { flag: 'wx', mode: 0o644 });
  } catch (cause) {
    throw new BerthError(
      'INVALID_OPTION',
      (cause as NodeJS.ErrnoException).code === 'EEXIST'
        ? `container ID file found, make sure the other container isn't running or delete ${path}`
        : `failed to create the container ID file: ${(cause as Error).message}`,
      { input: { field: 'cidfile' }, cause },
    );
  }
}

/** `berth create [OPTIONS] IMAGE [COMMAND] [ARG...]`: prints the new container's full ID. */
export async function run(ctx: CommandContext): Promise<number> {
  const opts = await createOptions(ctx);
  const { Id } = await withEngine(ctx, (engine) => engine.containers.create(opts));
  if (ctx.flags.changed('cidfile')) await writeCidFile(ctx.flags.string('cidfile'), Id);
  ctx.io.stdout.write(`${Id}\n`);
  return 0;
}
