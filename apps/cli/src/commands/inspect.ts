import { BerthError, isBerthError } from '@berth/oci';
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
 * `berth image inspect`, `berth container inspect` and `berth inspect`: a JSON array of every
 * object found, or `-f` applied to each. `inspect` without `--type` tries a container first,
 * then an image, as docker does. Missing names print `Error: No such object: …` (`No such
 * image`/`No such container` with a type) on stderr and the command exits 1.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const format = ctx.flags.string('format');
  const type = ctx.commandPath.endsWith('image inspect')
    ? 'image'
    : ctx.commandPath.endsWith('container inspect')
      ? 'container'
      : ctx.flags.changed('type')
        ? ctx.flags.string('type')
        : '';
  if (type !== '' && type !== 'image' && type !== 'container')
    throw new BerthError('INVALID_OPTION', `"${type}" is not a valid value for --type`, {
      input: { field: 'type' },
    });
  const size = ctx.flags.changed('size') && ctx.flags.bool('size');
  const found: unknown[] = [];
  let failed = false;
  await withEngine(ctx, async (engine) => {
    for (const name of ctx.args) {
      try {
        if (type !== 'image') {
          try {
            found.push(await engine.containers.inspect(name, { size }));
            continue;
          } catch (err) {
            if (type === 'container' || !isBerthError(err, 'CONTAINER_NOT_FOUND')) throw err;
          }
        }
        found.push(await engine.images.inspect(name));
      } catch (err) {
        if (!isBerthError(err, 'IMAGE_NOT_FOUND') && !isBerthError(err, 'CONTAINER_NOT_FOUND')) throw err;
        failed = true;
        ctx.io.stderr.write(`Error: No such ${type === '' ? 'object' : type}: ${name}\n`);
      }
    }
  });
  if (format === '') ctx.io.stdout.write(`${goIndentJson(found)}\n`);
  else for (const item of found) ctx.io.stdout.write(renderObject(item, format));
  return failed ? 1 : 0;
}
