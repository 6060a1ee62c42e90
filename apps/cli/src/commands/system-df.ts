import { renderList } from '../format/formatter.js';
import { humanSize } from '../format/units.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** One row of `berth system df`, docker's fields. */
export interface DiskUsageRow {
  Active: string;
  Reclaimable: string;
  Size: string;
  TotalCount: string;
  Type: string;
}

function reclaimable(size: number, reclaim: number): string {
  if (size <= 0) return humanSize(reclaim);
  return `${humanSize(reclaim)} (${Math.trunc((100 * reclaim) / size)}%)`;
}

/** `berth system df [--format]`: images from the store; containers, volumes and build cache are not there yet. */
export async function run(ctx: CommandContext): Promise<number> {
  const du = await withEngine(ctx, (engine) => engine.images.diskUsage());
  const empty = (type: string): DiskUsageRow => ({
    Active: '0',
    Reclaimable: '0B',
    Size: '0B',
    TotalCount: '0',
    Type: type,
  });
  const rows: DiskUsageRow[] = [
    {
      Active: String(du.active),
      Reclaimable: reclaimable(du.size, du.reclaimable),
      Size: humanSize(du.size),
      TotalCount: String(du.total),
      Type: 'Images',
    },
    empty('Containers'),
    empty('Local Volumes'),
    empty('Build Cache'),
  ];
  ctx.io.stdout.write(
    renderList(rows, {
      format: ctx.flags.string('format'),
      defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
      headers: { TotalCount: 'TOTAL' },
    }),
  );
  return 0;
}
