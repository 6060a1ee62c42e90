import { humanSize } from '../format/units.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** Reads one line from standard input (docker's prompt). */
async function confirm(ctx: CommandContext, message: string): Promise<boolean> {
  ctx.io.stdout.write(`${message}\nAre you sure you want to continue? [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString('utf8');
      if (buf.includes('\n')) done();
    };
    const done = () => {
      process.stdin.off('data', onData);
      process.stdin.off('end', done);
      process.stdin.pause();
      resolve(buf.split('\n')[0] ?? '');
    };
    process.stdin.on('data', onData);
    process.stdin.on('end', done);
  });
  return /^y(es)?$/i.test(line.trim());
}

/** `berth container prune [-f]`: removes every stopped container. */
export async function run(ctx: CommandContext): Promise<number> {
  if (!ctx.flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.')))
    return 0;
  const report = await withEngine(ctx, (engine) => engine.containers.prune());
  if (report.ContainersDeleted.length > 0)
    ctx.io.stdout.write(`Deleted Containers:\n${report.ContainersDeleted.map((id) => `${id}\n`).join('')}\n`);
  ctx.io.stdout.write(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}\n`);
  return 0;
}
