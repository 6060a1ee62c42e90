import { isBerthError } from '@berth/oci';
import { createOptions } from './container-options.js';
import { proxySignals, streamOutput } from './container-support.js';
import { writeCidFile } from './create.js';
import { openEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create and start; `-d` prints the ID and
 * returns (berth-shim keeps the container running); otherwise streams its output, forwards
 * signals (`--sig-proxy`), waits and exits with the container's code; `--rm` removes it after.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const opts = await createOptions(ctx);
  const detach = ctx.flags.bool('detach');
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
    if (ctx.flags.bool('sig-proxy')) unproxy = proxySignals(engine, Id);
    const attach = opts.attach ?? ['stdout', 'stderr'];
    await streamOutput(ctx, engine, Id, {
      stdout: attach.includes('stdout'),
      stderr: attach.includes('stderr'),
    });
    const { StatusCode } = await engine.containers.wait(Id, { settle: !opts.autoRemove });
    await removeAfter();
    return StatusCode;
  } finally {
    unproxy?.();
    await engine.close();
  }
}
