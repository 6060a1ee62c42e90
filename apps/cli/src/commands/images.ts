import type { ImageSummary, ListImagesOptions } from '@berth/engine';
import { BerthError, parseReference } from '@berth/oci';
import { renderList } from '../format/formatter.js';
import { goTime, humanSizeWithPrecision, humanTimeAgo, truncateId } from '../format/units.js';
import { splitFilter } from '../parse/filters.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** One row of `berth images`, with docker's field names (and JSON key order) for `--format`. */
export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

function row(img: ImageSummary, repository: string, tag: string, digest: string, noTrunc: boolean): ImageRow {
  const size = humanSizeWithPrecision(img.Size, 3);
  return {
    Containers: 'N/A',
    CreatedAt: goTime(img.Created),
    CreatedSince: img.Created === 0 ? 'N/A' : humanTimeAgo(new Date(img.Created * 1000)),
    Digest: digest,
    ID: noTrunc ? img.Id : truncateId(img.Id),
    Repository: repository,
    SharedSize: 'N/A',
    Size: size,
    Tag: tag,
    UniqueSize: 'N/A',
    VirtualSize: size,
  };
}

/** Splits a familiar `name:tag` / `name@digest` into repository and the rest. */
function split(ref: string): { repo: string; tag?: string; digest?: string } {
  try {
    const r = parseReference(ref);
    const at = ref.indexOf('@');
    const repo =
      at === -1 ? ref.slice(0, ref.length - (r.tag === undefined ? 0 : r.tag.length + 1)) : ref.slice(0, at);
    return {
      repo,
      ...(r.tag === undefined ? {} : { tag: r.tag }),
      ...(r.digest === undefined ? {} : { digest: r.digest }),
    };
  } catch {
    return { repo: ref };
  }
}

/** docker/cli's imageFormat: one row per repository:tag, digests per `--digests`. */
export function imageRows(images: ImageSummary[], opts: { digests: boolean; noTrunc: boolean }): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const t of img.RepoTags) {
      const s = split(t);
      repoTags.set(s.repo, [...(repoTags.get(s.repo) ?? []), s.tag ?? '<none>']);
    }
    for (const d of img.RepoDigests) {
      const s = split(d);
      repoDigests.set(s.repo, [...(repoDigests.get(s.repo) ?? []), s.digest ?? '<none>']);
    }
    for (const [repo, tags] of repoTags) {
      const digests = opts.digests ? (repoDigests.get(repo) ?? []) : [];
      repoDigests.delete(repo);
      for (const tag of tags) {
        if (digests.length === 0) rows.push(row(img, repo, tag, '<none>', opts.noTrunc));
        for (const d of digests) rows.push(row(img, repo, tag, d, opts.noTrunc));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digests) for (const d of digests) rows.push(row(img, repo, '<none>', d, opts.noTrunc));
      else rows.push(row(img, repo, '<none>', '', opts.noTrunc));
    }
    if (repoTags.size === 0 && img.RepoDigests.length === 0)
      rows.push(row(img, '<none>', '<none>', '<none>', opts.noTrunc));
  }
  return rows;
}

/** Parses docker's `--filter key=value` list for images. */
export function imageFilters(list: string[]): ListImagesOptions {
  const out: ListImagesOptions = {};
  for (const f of list) {
    const [k, value] = splitFilter(f);
    const key = k.toLowerCase();
    if (key === 'dangling') {
      if (!['true', 'false', '1', '0'].includes(value.toLowerCase()))
        throw new BerthError('INVALID_FILTER', `invalid filter 'dangling=${value}'`, { input: { field: f } });
      out.dangling = value === 'true' || value === '1';
    } else if (key === 'reference') out.reference = [...(out.reference ?? []), value];
    else if (key === 'label') out.label = [...(out.label ?? []), value];
    else if (key === 'before') out.before = value;
    else if (key === 'since') out.since = value;
    else throw new BerthError('INVALID_FILTER', `invalid filter '${key}'`, { input: { field: f } });
  }
  return out;
}

/** `berth images [OPTIONS] [REPOSITORY[:TAG]]`. */
export async function run(ctx: CommandContext): Promise<number> {
  const filters = imageFilters(ctx.flags.list('filter'));
  if (ctx.args[0] !== undefined) filters.reference = [...(filters.reference ?? []), ctx.args[0]];
  const digests = ctx.flags.bool('digests');
  const noTrunc = ctx.flags.bool('no-trunc');
  const images = await withEngine(ctx, (engine) => engine.images.list(filters));
  const rows = imageRows(images, { digests, noTrunc });
  let format = ctx.flags.string('format');
  if (ctx.flags.bool('quiet')) format = '{{.ID}}';
  const defaultFormat = digests
    ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
    : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
  ctx.io.stdout.write(
    renderList(rows, {
      format,
      defaultFormat,
      headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE' },
    }),
  );
  return 0;
}
