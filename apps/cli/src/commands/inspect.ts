import { isBerthError } from '@berth/oci';
import { renderObject } from '../format/formatter.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** Go's `json.MarshalIndent(v, "", "    ")` text, HTML characters escaped as Go does. */
export function goIndentJson(v: unknown): string {
  return JSON.stringify(v, null, 4)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
}

/**
 * `berth image inspect` and `berth inspect` (images only until containers exist): a JSON array
 * of every object found, or `-f` applied to each; missing names print `Error: No such image: …`
 * on stderr and the command exits 1, as docker does.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const format = ctx.flags.string('format');
  const type = ctx.flags.changed('type') ? ctx.flags.string('type') : 'image';
  const found: unknown[] = [];
  let failed = false;
  await withEngine(ctx, async (engine) => {
    for (const name of ctx.args) {
      try {
        if (type !== 'image') throw Object.assign(new Error(), { notImage: true });
        found.push(await engine.images.inspect(name));
      } catch (err) {
        if (!isBerthError(err, 'IMAGE_NOT_FOUND') && !(err as { notImage?: boolean }).notImage) throw err;
        failed = true;
        ctx.io.stderr.write(`Error: No such ${type === 'image' ? 'image' : 'object'}: ${name}\n`);
      }
    }
  });
  if (format === '') ctx.io.stdout.write(`${goIndentJson(found)}\n`);
  else for (const item of found) ctx.io.stdout.write(renderObject(item, format));
  return failed ? 1 : 0;
}
