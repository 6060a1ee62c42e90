import { humanSize } from '../format/units.js';
import { confirm, withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth container prune [-f]`: removes every stopped container. */
export async function run(ctx: CommandContext): Promise<number> {
  if (!ctx.flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.')))
    return 0;
  const report = await withEngine(ctx, (engine) => engine.containers.prune());
  if (report.ContainersDeleted.length > 0)
    ctx.io.stdout.write(`Deleted Containers:\n${report.ContainersDeleted.map((id) => `${id}\n`).join('')}\n`);
  ctx.io.stdout.write(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}\n`);
  return 0;
}
