import type { SystemInfo } from '@berth/engine';
import { renderObject } from '../format/formatter.js';
import { bytesSize } from '../format/units.js';
import { BERTH_VERSION } from '../version-info.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** docker's `info` text (cli/command/system/info.go), the lines berth has. */
export function formatInfo(i: SystemInfo, client: { debug: boolean }): string {
  const l: string[] = [
    'Client:',
    ' Context:    default',
    ` Debug Mode: ${client.debug}`,
    '',
    'Server:',
    ` Containers: ${i.Containers}`,
    `  Running: ${i.ContainersRunning}`,
    `  Paused: ${i.ContainersPaused}`,
    `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`,
    ` Server Version: ${i.ServerVersion}`,
    ` Storage Driver: ${i.Driver}`,
    ...i.DriverStatus.map(([k, v]) => `  ${k}: ${v}`),
    ` Logging Driver: ${i.LoggingDriver}`,
    ` Cgroup Driver: ${i.CgroupDriver}`,
    ` Cgroup Version: ${i.CgroupVersion}`,
    ` Runtimes: ${Object.keys(i.Runtimes).sort().join(' ')}`,
    ` Default Runtime: ${i.DefaultRuntime}`,
    ` Init Binary: ${i.InitBinary}`,
    ' Security Options:',
  ];
  for (const opt of i.SecurityOptions) {
    const kv = Object.fromEntries(opt.split(',').map((p) => p.split('=') as [string, string]));
    l.push(`  ${kv.name ?? opt}`);
    if (kv.profile !== undefined) l.push(`   Profile: ${kv.profile}`);
  }
  l.push(
    ` Kernel Version: ${i.KernelVersion}`,
    ` Operating System: ${i.OperatingSystem}`,
    ` OSType: ${i.OSType}`,
    ` Architecture: ${i.Architecture}`,
    ` CPUs: ${i.NCPU}`,
    ` Total Memory: ${bytesSize(i.MemTotal)}`,
    ` Name: ${i.Name}`,
    ` Docker Root Dir: ${i.DockerRootDir}`,
    ` Debug Mode: ${client.debug}`,
    '',
  );
  for (const w of i.Warnings ?? []) l.push(w);
  return `${l.join('\n')}${i.Warnings?.length ? '\n' : ''}`;
}

/** `berth info [--format]`: docker's system-wide information, for the daemonless engine. */
export async function run(ctx: CommandContext): Promise<number> {
  const info = await withEngine(ctx, (engine) => engine.info({ serverVersion: BERTH_VERSION }));
  const format = ctx.flags.string('format');
  if (format !== '') {
    ctx.io.stdout.write(
      renderObject({ ...info, ClientInfo: { Debug: ctx.globals.debug, Context: 'default' } }, format),
    );
    return 0;
  }
  ctx.io.stdout.write(formatInfo(info, { debug: ctx.globals.debug }));
  return 0;
}
