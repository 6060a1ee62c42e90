import type { ContainerSummary } from '@berth/engine';
import { ellipsis, renderList } from '../format/formatter.js';
import { goTime, humanSizeWithPrecision, humanTimeAgo, truncateId } from '../format/units.js';
import { groupFilters } from '../parse/filters.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** One row of `berth ps`, with docker's field names for `--format`. */
export interface ContainerRow {
  Command: string;
  CreatedAt: string;
  ID: string;
  Image: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Names: string;
  Networks: string;
  Ports: string;
  RunningFor: string;
  Size: string;
  State: string;
  Status: string;
}

/** docker/cli's ContainerContext fields. */
export function containerRow(c: ContainerSummary, opts: { noTrunc: boolean }): ContainerRow {
  const command = opts.noTrunc ? c.Command : ellipsis(c.Command, 20);
  let image = c.Image;
  if (!opts.noTrunc && image.startsWith('sha256:')) image = truncateId(image);
  const size =
    c.SizeRw === undefined
      ? ''
      : (c.SizeRootFs ?? 0) > 0
        ? `${humanSizeWithPrecision(c.SizeRw, 3)} (virtual ${humanSizeWithPrecision(c.SizeRootFs ?? 0, 3)})`
        : humanSizeWithPrecision(c.SizeRw, 3);
  return {
    Command: `"${command}"`,
    CreatedAt: goTime(c.Created),
    ID: opts.noTrunc ? c.Id : truncateId(c.Id),
    Image: image,
    Labels: Object.entries(c.Labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    LocalVolumes: '0',
    Mounts: '',
    Names: c.Names.map((n) => n.replace(/^\//, '')).join(','),
    Networks: c.HostConfig.NetworkMode,
    Ports: '',
    RunningFor: humanTimeAgo(new Date(c.Created * 1000)),
    Size: size,
    State: c.State,
    Status: c.Status,
  };
}

/** `berth ps [-a] [-q] [-n N] [-l] [-s] [--no-trunc] [--filter …] [--format …]`. */
export async function run(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const noTrunc = f.bool('no-trunc');
  const size = f.bool('size');
  const limit = f.bool('latest')
    ? 1
    : f.changed('last') && f.number('last') > 0
      ? f.number('last')
      : undefined;
  const list = await withEngine(ctx, (engine) =>
    engine.containers.list({
      all: f.bool('all'),
      ...(limit === undefined ? {} : { limit }),
      size,
      filters: groupFilters(f.list('filter')),
    }),
  );
  let format = f.string('format');
  if (f.bool('quiet')) format = '{{.ID}}';
  const rows = list.map((c) => containerRow(c, { noTrunc }));
  ctx.io.stdout.write(
    renderList(rows, {
      format,
      defaultFormat: `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${size ? '\t{{.Size}}' : ''}`,
      headers: {
        ID: 'CONTAINER ID',
        RunningFor: 'CREATED',
        CreatedAt: 'CREATED AT',
        LocalVolumes: 'LOCAL VOLUMES',
      },
    }),
  );
  return 0;
}
