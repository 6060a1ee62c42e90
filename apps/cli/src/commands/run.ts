import { isBerthError } from '@berth/oci';
import { createOptions } from './container-options.js';
import { attachedSession, inputOf, proxySignals, streamOutput } from './container-support.js';
import { writeCidFile } from './create.js';
import { openEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';
import { checkTty } from './terminal.js';

/**
 * `berth run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create and start; `-d` prints the ID and
 * returns (berth-shim keeps the container running); otherwise streams its output, forwards
 * signals (`--sig-proxy`), waits and exits with the container's code; `--rm` removes it after.
 * With `-i` or `-t` the session is attached before the process runs: stdin goes in (raw mode
 * on a terminal with `-t`), the detach keys leave it running and exit 0, as docker's run does.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const detach = ctx.flags.bool('detach');
  const opts = await createOptions(ctx, { detach });
  const attach = opts.attach ?? [];
  const tty = opts.tty === true;
  const stdin = attach.includes('stdin');
  // docker checks before it creates anything; only `-it` looks at stdin (process.stdin costs a
  // stream and, on a pipe, node:net: a plain run never opens it)
  if (!detach && tty && stdin) checkTty(inputOf(ctx), stdin, tty);
  const detachKeys = ctx.flags.string('detach-keys');
  const engine = await openEngine(ctx);
  let unproxy: (() => void) | undefined;
  try {
    const { Id } = await engine.containers.create(opts);
    if (ctx.flags.changed('cidfile')) await writeCidFile(ctx.flags.string('cidfile'), Id);
    const removeAfter = async () => {
      if (opts.autoRemove)
        await engine.containers.remove(Id, { force: true }).catch((err: unknown) => {
          if (!isBerthError(err, 'CONTAINER_NOT_FOUND')) throw err;
        });
    };
    if (ctx.flags.bool('sig-proxy') && !detach) unproxy = proxySignals(engine, Id);
    const waitOptions = { settle: !opts.autoRemove };
    let exited: ReturnType<typeof engine.containers.wait> | undefined;
    if (!detach && (tty || stdin)) {
      let end: Awaited<ReturnType<typeof attachedSession>>;
      const stopWaiting = new AbortController();
      try {
        end = await attachedSession(
          ctx,
          {
            tty,
            stdin,
            stdout: attach.includes('stdout'),
            stderr: attach.includes('stderr'),
            detachKeys,
          },
          async (streams) => {
            const session = await engine.containers.startAttached(Id, streams);
            // the session may detach, so berth-shim's exit hook settles the exit and removes a
            // --rm container, possibly before this process asks: wait from now on, as docker's
            // client waits before it starts
            exited = engine.containers.wait(Id, { ...waitOptions, signal: stopWaiting.signal });
            exited.catch(() => {});
            return session;
          },
        );
      } catch (err) {
        stopWaiting.abort();
        await removeAfter();
        throw err;
      }
      // docker: the detach keys end run with 0 and leave the container running
      if (end === 'detached') {
        stopWaiting.abort();
        return 0;
      }
    } else {
      try {
        // attached: this process settles the exit, so the shim's exit hook is only for a policy
        await engine.containers.start(Id, detach ? {} : { attached: true });
      } catch (err) {
        await removeAfter();
        throw err;
      }
      if (detach) {
        ctx.io.stdout.write(`${Id}\n`);
        return 0;
      }
      await streamOutput(ctx, engine, Id, {
        stdout: attach.includes('stdout'),
        stderr: attach.includes('stderr'),
      });
    }
    if (exited) {
      const { StatusCode } = await exited;
      await removeAfter();
      return StatusCode;
    }
    // --rm: one step reads the exit and removes the container (docker's client waits for `removed`)
    const { StatusCode } = await engine.containers.wait(Id, {
      ...waitOptions,
      remove: opts.autoRemove === true,
    });
    return StatusCode;
  } finally {
    unproxy?.();
    await engine.close();
  }
}
