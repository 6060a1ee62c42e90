import { isBerthError } from '@berth/oci';
import { reportError } from '../errors.js';
import { BERTH_VERSION } from '../version-info.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth rmi [-f] IMAGE...`: docker prints `Untagged: …`/`Deleted: …` lines, reports each
 * failing image on stderr and carries on, then exits 1 if any failed.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const force = ctx.flags.bool('force');
  let failed = false;
  await withEngine(ctx, async (engine) => {
    for (const name of ctx.args) {
      try {
        for (const item of await engine.images.remove(name, { force })) {
          ctx.io.stdout.write(
            'Untagged' in item ? `Untagged: ${item.Untagged}\n` : `Deleted: ${item.Deleted}\n`,
          );
        }
      } catch (err) {
        if (!isBerthError(err) || ctx.args.length === 1) throw err;
        failed = true;
        reportError(err, { io: ctx.io, version: BERTH_VERSION, debug: ctx.globals.debug });
      }
    }
  });
  return failed ? 1 : 0;
}
