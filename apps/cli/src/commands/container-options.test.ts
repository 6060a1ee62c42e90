import { describe, expect, it } from 'vitest';
import { parseFlags } from '../parse/flags.js';
import { createOptions } from './container-options.js';
import type { CommandContext } from './spec.js';
import { COMMANDS } from './table.js';

/** The create options `berth <command> argv…` asks for (run or create). */
async function optionsOf(command: 'run' | 'create', argv: string[]) {
  const spec = COMMANDS.find((c) => c.path.length === 1 && c.path[0] === command);
  const parsed = parseFlags(argv, { flags: spec?.flags ?? [], interspersed: false });
  const ctx: CommandContext = {
    io: { stdout: { write: () => true }, stderr: { write: () => true }, env: {} },
    args: parsed.args,
    flags: parsed.values,
    globals: { debug: false, host: [], config: '', logLevel: 'info' },
    commandPath: `berth ${command}`,
  };
  const detach = command === 'run' && parsed.values.bool('detach');
  return createOptions(ctx, { detach });
}

// docker's parse (cli/command/container/opts.go) and runContainer, as the morbyd table lists them
describe('-i, -t, -a and -d as docker records them', () => {
  it('no flags: stdout and stderr attached, no stdin, no terminal', async () => {
    const o = await optionsOf('run', ['busybox']);
    expect(o).toMatchObject({ attach: ['stdout', 'stderr'] });
    expect(o.tty).toBeUndefined();
    expect(o.openStdin).toBeUndefined();
    expect(o.stdinOnce).toBeUndefined();
  });
  it('-it: stdin attached, kept open and closed at EOF, a terminal', async () => {
    const o = await optionsOf('run', ['-it', 'busybox', 'sh']);
    expect(o).toMatchObject({ tty: true, openStdin: true, stdinOnce: true });
    expect(new Set(o.attach)).toEqual(new Set(['stdin', 'stdout', 'stderr']));
  });
  it('-a stdin without -i: attached but not kept open', async () => {
    const o = await optionsOf('run', ['-a', 'stdin', 'busybox']);
    expect(o.attach).toEqual(['stdin']);
    expect(o.openStdin).toBeUndefined();
  });
  it('-i -a stderr: stdin and stderr', async () => {
    const o = await optionsOf('run', ['-i', '-a', 'stderr', 'busybox']);
    expect(new Set(o.attach)).toEqual(new Set(['stderr', 'stdin']));
  });
  it('-dit: nothing attached, stdin kept open for a later attach, no StdinOnce', async () => {
    const o = await optionsOf('run', ['-dit', 'busybox', 'sh']);
    expect(o).toMatchObject({ attach: [], tty: true, openStdin: true });
    expect(o.stdinOnce).toBeUndefined();
  });
  it('-a with -d is refused', async () => {
    await expect(optionsOf('run', ['-d', '-a', 'stdout', 'busybox'])).rejects.toThrow(
      'Conflicting options: -a and -d',
    );
  });
  it('create -it records the same as run -it (start -ai attaches later)', async () => {
    const o = await optionsOf('create', ['-it', 'busybox', 'sh']);
    expect(o).toMatchObject({ tty: true, openStdin: true, stdinOnce: true });
  });
});
