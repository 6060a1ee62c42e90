import { BerthError } from '@berth/oci';
import { readStdin, withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** `berth login [-u USER] [-p PASS | --password-stdin] [SERVER]`. */
export async function run(ctx: CommandContext): Promise<number> {
  const username = ctx.flags.string('username');
  let password = ctx.flags.string('password');
  const fromStdin = ctx.flags.bool('password-stdin');
  if (fromStdin) {
    if (password !== '')
      throw new BerthError('INVALID_OPTION', '--password and --password-stdin are mutually exclusive');
    if (username === '')
      throw new BerthError('INVALID_OPTION', 'Must provide --username with --password-stdin');
    password = (await readStdin()).replace(/\r?\n$/, '');
  } else if (password !== '') {
    ctx.io.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  }
  if (username === '' || password === '') {
    throw new BerthError('INVALID_OPTION', 'Cannot perform an interactive login from a non TTY device');
  }
  const server = ctx.args[0];
  const r = await withEngine(ctx, (engine) =>
    engine.images.login({ ...(server === undefined ? {} : { registry: server }), username, password }),
  );
  ctx.io.stdout.write(`${r.status}\n`);
  return 0;
}
