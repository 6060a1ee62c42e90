import { BerthError } from '@berth/oci';
import { attachedSession, eachContainer, proxySignals } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth start [-a] [-i] CONTAINER...`: starts each and prints it; `-a`/`-i` attach to one
 * container (output, and with `-i` its stdin when it was created with `-i`), wait and exit with
 * its code, as docker's start does.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const attach = ctx.flags.bool('attach');
  const interactive = ctx.flags.bool('interactive');
  return withEngine(ctx, async (engine) => {
    if (attach || interactive) {
      if (ctx.args.length > 1)
        throw new BerthError('USAGE', 'you cannot start and attach multiple containers at once');
      const c = await engine.containers.inspect(ctx.args[0] as string);
      const id = c.Id;
      const tty = c.Config.Tty;
      const stdin = interactive && c.Config.OpenStdin;
      // docker forwards signals only to a container without a terminal
      const unproxy = tty ? () => {} : proxySignals(engine, id);
      try {
        // attached before the process runs, as docker's start -a: its output from the first byte
        const end = await attachedSession(
          ctx,
          { tty, stdin, stdout: true, stderr: true, detachKeys: ctx.flags.string('detach-keys') },
          (streams) => engine.containers.startAttached(id, streams),
        );
        if (end === 'detached') return 0;
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
