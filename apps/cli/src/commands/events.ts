import type { EngineEvent } from '@berth/engine';
import { renderObject } from '../format/formatter.js';
import { groupFilters } from '../parse/filters.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** Go's RFC3339NanoFixed in local time, as docker's client prints event times. */
export function eventTime(timeNano: number): string {
  // timeNano is past 2^53: JavaScript holds it to the microsecond at best, print milliseconds
  const ms = Math.round(timeNano / 1e6);
  const nanos = `${String(ms % 1000).padStart(3, '0')}000000`;
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000).toISOString().slice(0, 19);
  const zone =
    off === 0
      ? 'Z'
      : `${off > 0 ? '+' : '-'}${String(Math.trunc(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
  return `${local}.${nanos}${zone}`;
}

/** docker/cli's printOutput: `TIME TYPE ACTION ID (k=v, k=v)`, attributes sorted by key. */
export function eventLine(e: EngineEvent): string {
  const attrs = Object.keys(e.Actor.Attributes)
    .sort()
    .map((k) => `${k}=${e.Actor.Attributes[k]}`);
  return `${eventTime(e.timeNano)} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs.length ? ` (${attrs.join(', ')})` : ''}\n`;
}

/**
 * `berth events [--since] [--until] [--filter k=v] [--format]`: the stored events from
 * `--since`, then live ones until `--until` or Ctrl-C.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const format = f.string('format');
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await withEngine(ctx, async (engine) => {
      const stream = engine.events({
        since: f.string('since'),
        until: f.string('until'),
        filters: groupFilters(f.list('filter')),
        signal: ac.signal,
      });
      for await (const e of stream)
        ctx.io.stdout.write(format === '' ? eventLine(e) : renderObject(e, format));
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
