import { BerthError } from '@berth/oci';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth logs [-f] [--since] [--until] [-n N] [-t] CONTAINER`: the json-file log. */
export async function run(ctx: CommandContext): Promise<number> {
  const tailText = ctx.flags.string('tail');
  let tail: number | undefined;
  if (tailText !== 'all' && tailText !== '') {
    if (!/^-?\d+$/.test(tailText))
      throw new BerthError('FLAG_INVALID', `invalid argument "${tailText}" for "-n, --tail" flag`, {
        input: { field: 'tail' },
      });
    tail = Number(tailText);
  }
  const timestamps = ctx.flags.bool('timestamps');
  const ac = new AbortController();
  const stopOnSignal = () => ac.abort();
  process.once('SIGINT', stopOnSignal);
  try {
    await withEngine(ctx, async (engine) => {
      const logs = await engine.containers.logs(ctx.args[0] as string, {
        follow: ctx.flags.bool('follow'),
        since: ctx.flags.string('since'),
        until: ctx.flags.string('until'),
        ...(tail === undefined ? {} : { tail }),
        signal: ac.signal,
      });
      for await (const e of logs) {
        const out = e.stream === 'stdout' ? ctx.io.stdout : ctx.io.stderr;
        out.write(timestamps ? `${e.time} ${e.log}` : e.log);
      }
    });
  } finally {
    process.off('SIGINT', stopOnSignal);
  }
  return 0;
}
