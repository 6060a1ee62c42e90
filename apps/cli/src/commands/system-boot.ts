import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/**
 * `berth system boot`: after a reboot (the berth-restart.service unit runs it), settles the
 * containers whose shim is gone, removes `--rm` ones and starts those whose restart policy says
 * so. Prints the IDs started; a failure is reported and makes the exit status 1.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const r = await withEngine(ctx, (engine) => engine.containers.boot());
  for (const id of r.started) ctx.io.stdout.write(`${id}\n`);
  for (const f of r.failed) ctx.io.stderr.write(`Error response from daemon: ${f.error}\n`);
  return r.failed.length ? 1 : 0;
}
