import { isBerthError } from '@berth/oci';
import { attachedSession, inputOf, proxySignals } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';
import { checkTty } from './terminal.js';

/**
 * `berth attach [--no-stdin] [--sig-proxy] [--detach-keys] CONTAINER`: the running container's
 * output from now on and, unless --no-stdin, the terminal's input to it (when it was created
 * with -i). Exits with the container's code when it ends. As docker's attach: typing the detach
 * keys prints `read escape sequence` and exits 1, and signals are forwarded only to a container
 * without a terminal.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const ref = ctx.args[0] as string;
  return withEngine(ctx, async (engine) => {
    const c = await engine.containers.inspect(ref);
    const id = c.Id;
    const tty = c.Config.Tty;
    const noStdin = ctx.flags.bool('no-stdin');
    // docker checks the state before the terminal (inspectContainerAndCheckState, CheckTty)
    if (!c.State.Running || c.State.Paused || c.State.Restarting) await engine.containers.attach(id, {});
    checkTty(inputOf(ctx), !noStdin, tty);
    const stdin = !noStdin && c.Config.OpenStdin;
    const unproxy = ctx.flags.bool('sig-proxy') && !tty ? proxySignals(engine, id) : () => {};
    try {
      const end = await attachedSession(
        ctx,
        { tty, stdin, stdout: true, stderr: true, detachKeys: ctx.flags.string('detach-keys'), nudge: true },
        (streams) => engine.containers.attach(id, streams),
      );
      if (end === 'detached') {
        ctx.io.stderr.write('read escape sequence\n');
        return 1;
      }
      const { StatusCode } = await engine.containers.wait(id);
      // no daemon removes a --rm container that exited while nobody was attached: its attach does
      if (c.HostConfig.AutoRemove)
        await engine.containers.remove(id, { force: true }).catch((err: unknown) => {
          if (!isBerthError(err, 'CONTAINER_NOT_FOUND')) throw err;
        });
      return StatusCode;
    } finally {
      unproxy();
    }
  });
}
