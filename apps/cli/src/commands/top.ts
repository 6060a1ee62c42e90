import { tabwrite } from '../format/tabwriter.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth top CONTAINER [ps OPTIONS]`: the host's `ps` (default `-ef`) limited to the container's
 * processes, printed as docker's client does (`tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)`).
 */
export async function run(ctx: CommandContext): Promise<number> {
  const [ref, ...ps] = ctx.args as [string, ...string[]];
  const top = await withEngine(ctx, (engine) =>
    engine.containers.top(ref, ps.length ? { psArgs: ps.join(' ') } : {}),
  );
  const text = [top.Titles, ...top.Processes].map((r) => `${r.join('\t')}\n`).join('');
  ctx.io.stdout.write(tabwrite(text, { minWidth: 20, padding: 3 }));
  return 0;
}
