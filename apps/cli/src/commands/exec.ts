import type { ContainerExecOptions } from '@berth/engine';
import { isBerthError } from '@berth/oci';
import { envFile } from './container-options.js';
import { inputOf, writableOf } from './container-support.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';
import { checkTty, followWindowSize, rawMode, windowSize } from './terminal.js';

/**
 * `berth exec [OPTIONS] CONTAINER COMMAND [ARG...]`: a new process in a running container, its
 * exit code as berth's. docker's rules: the container is looked up first (a missing one wins
 * over a bad terminal), `-t` with `-i` needs a terminal, `-d` returns at once and prints
 * nothing. A command that is not found exits 127, one that cannot run 126; a container that
 * is missing or not running exits 1, as docker's client does for the daemon's refusal.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const [ref, ...cmd] = ctx.args as [string, ...string[]];
  const detach = f.bool('detach');
  const tty = f.bool('tty');
  const interactive = f.bool('interactive') && !detach;
  const env: string[] = [];
  for (const file of f.list('env-file')) env.push(...(await envFile(file)));
  // a bare NAME takes the caller's value, or is dropped (docker's opts.ValidateEnv)
  for (const e of [...env.splice(0), ...f.list('env')]) {
    if (e.includes('=')) env.push(e);
    else if (ctx.io.env[e] !== undefined) env.push(`${e}=${ctx.io.env[e]}`);
  }
  return withEngine(ctx, async (engine) => {
    let id: string;
    try {
      // the ID only (docker's client inspects first so "no such container" wins over a bad terminal)
      id = await engine.containers.resolve(ref);
      if (!detach) checkTty(inputOf(ctx), interactive, tty);
    } catch (err) {
      return daemonError(ctx, err);
    }
    const stdin = interactive ? inputOf(ctx) : undefined;
    const restore = tty && stdin ? rawMode(stdin) : () => {};
    let unfollow = () => {};
    const size = tty ? windowSize(ctx.io.stdout) : undefined;
    const o: ContainerExecOptions = {
      cmd,
      env,
      ...(f.changed('workdir') ? { workdir: f.string('workdir') } : {}),
      ...(f.changed('user') ? { user: f.string('user') } : {}),
      ...(f.bool('privileged') ? { privileged: true } : {}),
      ...(tty ? { tty: true } : {}),
      ...(size ? { consoleSize: size } : {}),
      ...(detach ? { detach: true } : {}),
      ...(stdin ? { stdin } : {}),
      stdout: writableOf(ctx.io.stdout),
      stderr: writableOf(ctx.io.stderr),
      onStarted: (e) => {
        if (tty) unfollow = followWindowSize(ctx.io.stdout, (s) => e.resize(s));
      },
    };
    try {
      return (await engine.containers.exec(id, o)).ExitCode;
    } catch (err) {
      restore();
      return daemonError(ctx, err);
    } finally {
      unfollow();
      restore();
      stdin?.destroy();
    }
  });
}

/** docker's client exits 1 when the daemon refuses (no such container, not running). */
function daemonError(ctx: CommandContext, err: unknown): number {
  if (isBerthError(err, 'CONTAINER_NOT_FOUND') || isBerthError(err, 'CONTAINER_NOT_RUNNING')) {
    ctx.io.stderr.write(`Error: ${err.message}\n`);
    return 1;
  }
  throw err;
}
