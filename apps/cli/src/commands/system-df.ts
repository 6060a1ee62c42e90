import type { DiskUsage, ImageUsageItem, UsageTotals } from '@berth/engine';
import { parseReference } from '@berth/oci';
import { isTableFormat, renderList, renderObject } from '../format/formatter.js';
import { goTime, humanSize, humanSizeWithPrecision, humanTimeAgo, truncateId } from '../format/units.js';
import { withEngine } from './engine-support.js';
import type { ImageRow } from './images.js';
import { type ContainerRow, containerRow } from './ps.js';
import type { CommandContext } from './spec.js';

/** One row of `berth system df`, docker's fields. */
export interface DiskUsageRow {
  Active: string;
  Reclaimable: string;
  Size: string;
  TotalCount: string;
  Type: string;
}

/** `-v`'s sections, docker's names for `--format` (`{{range .Images}}…`, `{{json .}}`). */
export interface VerboseDiskUsage {
  Images: ImageRow[];
  Containers: ContainerRow[];
  Volumes: never[];
  BuildCache: never[];
}

/** docker's RECLAIMABLE column: the size, and its share of the total when there is a total. */
function reclaimable(size: number, reclaim: number): string {
  if (size <= 0) return humanSize(reclaim);
  return `${humanSize(reclaim)} (${Math.trunc((100 * reclaim) / size)}%)`;
}

/** The summary rows: Images, Containers, Local Volumes, Build Cache (berth has neither of the last two yet). */
export function diskUsageRows(du: DiskUsage): DiskUsageRow[] {
  const row = (Type: string, t: UsageTotals): DiskUsageRow => ({
    Active: String(t.active),
    Reclaimable: reclaimable(t.size, t.reclaimable),
    Size: humanSize(t.size),
    TotalCount: String(t.total),
    Type,
  });
  const none: UsageTotals = { total: 0, active: 0, size: 0, reclaimable: 0 };
  return [
    row('Images', du.images),
    row('Containers', du.containers),
    row('Local Volumes', none),
    // docker prints the build cache's reclaimable bytes with no share
    { ...row('Build Cache', none), Reclaimable: humanSize(0) },
  ];
}

/** docker's `system df -v` image row: the first tag only, `<none>` for an untagged image. */
function imageRow(i: ImageUsageItem, noTrunc: boolean): ImageRow {
  let repo = '<none>';
  let tag = '<none>';
  const first = i.repoTags[0];
  if (first !== undefined) {
    try {
      const r = parseReference(first);
      if (r.tag !== undefined) {
        repo = first.slice(0, first.length - r.tag.length - 1);
        tag = r.tag;
      }
    } catch {
      // a name berth stored cannot be parsed: shown as untagged
    }
  }
  return {
    Containers: String(i.containers),
    CreatedAt: goTime(i.created),
    CreatedSince: i.created === 0 ? 'N/A' : humanTimeAgo(new Date(i.created * 1000)),
    Digest: '',
    ID: noTrunc ? i.id : truncateId(i.id),
    Repository: repo,
    // docker/cli: SIZE to 3 digits, the others go-units' HumanSize (4)
    SharedSize: humanSize(i.sharedSize),
    Size: humanSizeWithPrecision(i.size, 3),
    Tag: tag,
    UniqueSize: humanSize(i.uniqueSize),
    VirtualSize: humanSize(i.size),
  };
}

/** `-v`'s sections; IDs, commands and images are truncated for a table format, as docker. */
export function verboseDiskUsage(du: DiskUsage, trunc: boolean): VerboseDiskUsage {
  return {
    Images: du.images.items.map((i) => imageRow(i, !trunc)),
    // docker leaves the virtual size out of these rows
    Containers: du.containers.items.map((c) => containerRow({ ...c, SizeRootFs: 0 }, { noTrunc: !trunc })),
    Volumes: [],
    BuildCache: [],
  };
}

/** docker's verbose table: each section's title and table (a header even when empty). */
function verboseTables(v: VerboseDiskUsage): string {
  const images = renderList(v.Images, {
    format: '',
    defaultFormat:
      'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
    headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED' },
  });
  const containers = renderList(v.Containers, {
    format: '',
    defaultFormat:
      'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
    headers: { ID: 'CONTAINER ID', RunningFor: 'CREATED', LocalVolumes: 'LOCAL VOLUMES' },
  });
  const volumes = renderList([], {
    format: '',
    defaultFormat: 'table {{.Name}}\t{{.Links}}\t{{.Size}}',
    headers: { Name: 'VOLUME NAME' },
  });
  const cache = renderList([], {
    format: '',
    defaultFormat:
      'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
    headers: {
      ID: 'CACHE ID',
      CacheType: 'CACHE TYPE',
      CreatedSince: 'CREATED',
      LastUsedSince: 'LAST USED',
      UsageCount: 'USAGE',
    },
  });
  return [
    `Images space usage:\n\n${images}`,
    `\nContainers space usage:\n\n${containers}`,
    `\nLocal Volumes space usage:\n\n${volumes}`,
    `\nBuild cache usage: ${humanSize(0)}\n\n${cache}`,
  ].join('');
}

/**
 * `berth system df [-v] [--format]`: disk use of images and containers (the writable layers),
 * and the Local Volumes and Build Cache rows (empty: berth has neither yet), as docker prints
 * them. `-v` lists each image and container; with `--format` it runs the template once over
 * `{Images, Containers, Volumes, BuildCache}`.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const format = ctx.flags.string('format');
  const du = await withEngine(ctx, (engine) => engine.diskUsage());
  if (ctx.flags.bool('verbose')) {
    const table = format === '' || format === 'table';
    const v = verboseDiskUsage(du, table || isTableFormat(format));
    // docker runs the template once and adds no newline after it
    ctx.io.stdout.write(table ? verboseTables(v) : renderObject(v, format).slice(0, -1));
    return 0;
  }
  ctx.io.stdout.write(
    renderList(diskUsageRows(du), {
      format,
      defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
      headers: { TotalCount: 'TOTAL' },
    }),
  );
  return 0;
}
