import { BerthError } from '@berth/oci';
import { eachContainer, proxySignals, streamOutput } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth start [-a] CONTAINER...`: starts each and prints it; `-a` attaches to one container's
 * output, waits and exits with its code.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const attach = ctx.flags.bool('attach');
  if (ctx.flags.bool('interactive'))
    throw new BerthError('INVALID_OPTION', 'start -i: interactive attach is not supported yet', {
      input: { field: 'interactive' },
    });
  return withEngine(ctx, async (engine) => {
    if (attach) {
      if (ctx.args.length > 1)
        throw new BerthError('USAGE', 'you cannot start and attach multiple containers at once');
      const id = await engine.containers.resolve(ctx.args[0] as string);
      await engine.containers.start(id);
      const unproxy = proxySignals(engine, id);
      try {
        await streamOutput(ctx, engine, id, { stdout: true, stderr: true, onlyNew: true });
        return (await engine.containers.wait(id)).StatusCode;
      } finally {
        unproxy();
      }
    }
    return eachContainer(ctx, async (ref) => {
      await engine.containers.start(ref);
      return `${ref}\n`;
    });
  });
}
