import { humanSize } from '../format/units.js';
import { confirm, withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth system prune [-a] [-f] [--volumes]`: every stopped container, then dangling images
 * (every image no container uses with `-a`), with docker's prompt and report. berth has no
 * networks, volumes or build cache yet, so there is nothing of those to remove.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const all = ctx.flags.bool('all');
  if (!ctx.flags.bool('force')) {
    const lines = [
      'WARNING! This will remove:',
      '  - all stopped containers',
      ...(ctx.flags.bool('volumes') ? ['  - all anonymous volumes not used by at least one container'] : []),
      all ? '  - all images without at least one container associated to them' : '  - all dangling images',
      '',
    ];
    if (!(await confirm(ctx, lines.join('\n')))) return 0;
  }
  const [containers, images] = await withEngine(ctx, async (engine) => {
    const c = await engine.containers.prune();
    const i = await engine.images.prune({ all });
    return [c, i] as const;
  });
  let out = '';
  if (containers.ContainersDeleted.length > 0)
    out += `Deleted Containers:\n${containers.ContainersDeleted.map((id) => `${id}\n`).join('')}\n`;
  if (images.ImagesDeleted.length > 0) {
    out += 'Deleted Images:\n';
    for (const d of images.ImagesDeleted)
      out += 'Untagged' in d ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
    out += '\n';
  }
  out += `Total reclaimed space: ${humanSize(containers.SpaceReclaimed + images.SpaceReclaimed)}\n`;
  ctx.io.stdout.write(out);
  return 0;
}
