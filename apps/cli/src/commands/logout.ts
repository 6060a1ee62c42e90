import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth logout [SERVER]`. */
export async function run(ctx: CommandContext): Promise<number> {
  const r = await withEngine(ctx, (engine) => engine.images.logout(ctx.args[0]));
  const shown = r.registry === 'docker.io' ? 'https://index.docker.io/v1/' : r.registry;
  ctx.io.stdout.write(
    r.removed ? `Removing login credentials for ${shown}\n` : `Not logged in to ${shown}\n`,
  );
  return 0;
}
