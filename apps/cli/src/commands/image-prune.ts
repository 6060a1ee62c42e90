import { humanSize } from '../format/units.js';
import { confirm, withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth image prune [-a] [-f]`. */
export async function run(ctx: CommandContext): Promise<number> {
  const all = ctx.flags.bool('all');
  if (!ctx.flags.bool('force')) {
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!(await confirm(ctx, warning))) return 0;
  }
  const report = await withEngine(ctx, (engine) => engine.images.prune({ all }));
  if (report.ImagesDeleted.length > 0) {
    let out = 'Deleted Images:\n';
    for (const d of report.ImagesDeleted)
      out += 'Untagged' in d ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
    ctx.io.stdout.write(`${out}\n`);
  }
  ctx.io.stdout.write(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}\n`);
  return 0;
}
