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

/** `berth image prune [-a] [-f]`. */
export async function run(ctx: CommandContext): Promise<number> {
  const all = ctx.flags.bool('all');
  if (!ctx.flags.bool('force')) {
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!(await confirm(ctx, warning))) return 0;
  }
  const report = await withEngine(ctx, (engine) => engine.images.prune({ all }));
  if (report.ImagesDeleted.length > 0) {
    let out = 'Deleted Images:\n';
    for (const d of report.ImagesDeleted)
      out += 'Untagged' in d ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
    ctx.io.stdout.write(`${out}\n`);
  }
  ctx.io.stdout.write(`Total reclaimed space: ${humanSize(report.SpaceReclaimed)}\n`);
  return 0;
}
