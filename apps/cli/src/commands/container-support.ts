import type { Engine } from '@berth/engine';
import { isBerthError } from '@berth/oci';
import type { CommandContext } from './spec.js';

/**
 * What the container commands share: streaming a container's output to the terminal (run,
 * start -a), forwarding signals (docker's `--sig-proxy`), and docker's per-container error
 * reporting for commands that take several containers.
 */

/** Signals docker's client forwards to an attached container. */
const PROXIED: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];

/** Forwards the CLI's signals to the container until the returned function is called. */
export function proxySignals(engine: Engine, id: string): () => void {
  const handlers = PROXIED.filter((s) => s !== 'SIGWINCH').map((s) => {
    const h = () => {
      engine.containers.kill(id, { signal: s }).catch(() => {});
    };
    process.on(s, h);
    return [s, h] as const;
  });
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}

/** Copies a container's log (following it) to stdout/stderr until the container stops. */
export async function streamOutput(
  ctx: CommandContext,
  engine: Engine,
  id: string,
  opts: { stdout: boolean; stderr: boolean; onlyNew?: boolean },
): Promise<void> {
  const logs = await engine.containers.logs(id, {
    follow: true,
    stdout: opts.stdout,
    stderr: opts.stderr,
    ...(opts.onlyNew ? { tail: 0 } : {}),
  });
  for await (const e of logs) (e.stream === 'stdout' ? ctx.io.stdout : ctx.io.stderr).write(e.log);
}

/**
 * Runs `fn` for every argument at once (docker's client sends these requests concurrently),
 * then prints each result or error in argument order, as docker does (`Error response from
 * daemon: …`; berth prints `Error: …`), returning 1 when any failed.
 */
export async function eachContainer(
  ctx: CommandContext,
  fn: (ref: string) => Promise<string>,
): Promise<number> {
  const results = await Promise.allSettled(ctx.args.map((ref) => fn(ref)));
  let failed = false;
  for (const r of results) {
    if (r.status === 'fulfilled') {
      ctx.io.stdout.write(r.value);
      continue;
    }
    if (!isBerthError(r.reason)) throw r.reason;
    failed = true;
    ctx.io.stderr.write(`Error: ${r.reason.message}\n`);
  }
  return failed ? 1 : 0;
}
