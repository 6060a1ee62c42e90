import type { ImageHistoryItem } from '@berth/engine';
import { renderList } from '../format/formatter.js';
import { humanSizeWithPrecision, humanTimeAgo, truncateId } from '../format/units.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** One row of `berth history`, docker's fields and JSON order. */
export interface HistoryRow {
  Comment: string;
  CreatedAt: string;
  CreatedBy: string;
  CreatedSince: string;
  ID: string;
  Size: string;
}

/** docker's history rows: `-H` for human sizes and times, `--no-trunc` for full IDs and commands. */
export function historyRows(
  items: ImageHistoryItem[],
  opts: { human: boolean; noTrunc: boolean },
): HistoryRow[] {
  return items.map((h) => {
    const created = new Date(h.Created * 1000);
    let createdBy = h.CreatedBy.replace(/\t/g, ' ');
    if (!opts.noTrunc && [...createdBy].length > 45) createdBy = `${[...createdBy].slice(0, 44).join('')}…`;
    return {
      Comment: h.Comment,
      CreatedAt: opts.human
        ? created.toISOString().replace(/\.\d+Z$/, 'Z')
        : created.toISOString().replace(/\.\d+Z$/, 'Z'),
      CreatedBy: createdBy,
      CreatedSince:
        h.Created === 0
          ? 'N/A'
          : opts.human
            ? humanTimeAgo(created)
            : created.toISOString().replace(/\.\d+Z$/, 'Z'),
      ID: h.Id === '<missing>' || opts.noTrunc ? h.Id : truncateId(h.Id),
      Size: opts.human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size),
    };
  });
}

/** `berth history [OPTIONS] IMAGE`. */
export async function run(ctx: CommandContext): Promise<number> {
  const items = await withEngine(ctx, (engine) => engine.images.history(ctx.args[0] as string));
  const rows = historyRows(items, { human: ctx.flags.bool('human'), noTrunc: ctx.flags.bool('no-trunc') });
  let format = ctx.flags.string('format');
  if (ctx.flags.bool('quiet')) format = '{{.ID}}';
  ctx.io.stdout.write(
    renderList(rows, {
      format,
      defaultFormat: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
      headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedBy: 'CREATED BY', CreatedAt: 'CREATED AT' },
    }),
  );
  return 0;
}
