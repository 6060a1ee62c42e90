import { describe, expect, it } from 'vitest';
import type { CommandContext, CommandSpec } from './commands/spec.js';
import type { CliIO } from './io.js';
import { runCli } from './run-cli.js';
import { BERTH_VERSION } from './version-info.js';

interface Captured extends CliIO {
  out: string;
  err: string;
}

function capture(env: Record<string, string> = {}): Captured {
  const io: Captured = {
    out: '',
    err: '',
    env,
    stdout: { write: (s: string) => (io.out += s) },
    stderr: { write: (s: string) => (io.err += s) },
  };
  return io;
}

// A command table of the shapes later issues add (run stops at the image, tag takes exactly two
// arguments, image ls is also `images`); each handler records what it was given.
let seen: CommandContext | undefined;
const record = async () => ({
  run: async (ctx: CommandContext) => {
    seen = ctx;
    return 0;
  },
});
const TABLE: CommandSpec[] = [
  {
    path: ['run'],
    usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    description: 'Create and run a new container from an image',
    group: 'common',
    interspersed: false,
    args: { min: 1 },
    flags: [
      { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open' },
      { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
      { name: 'env', short: 'e', type: 'string[]', help: 'Set environment variables' },
      { name: 'hostname', short: 'h', type: 'string', help: 'Container host name' },
      { name: 'name', type: 'string', help: 'Assign a name to the container' },
    ],
    load: record,
  },
  {
    path: ['tag'],
    usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    description: 'Create a tag',
    args: { exact: 2 },
    load: record,
  },
  { path: ['image'], usage: 'COMMAND', description: 'Manage images', group: 'management' },
  {
    path: ['image', 'ls'],
    aliases: [['images'], ['image', 'list']],
    usage: '[OPTIONS] [REPOSITORY[:TAG]]',
    description: 'List images',
    args: { max: 1 },
    flags: [{ name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' }],
    load: record,
  },
  {
    path: ['boom'],
    usage: '',
    description: 'Throws a bug',
    load: async () => ({
      run: async () => {
        throw new TypeError('cannot read properties of undefined');
      },
    }),
  },
];

async function cli(argv: string[], env?: Record<string, string>) {
  seen = undefined;
  const io = capture(env);
  const code = await runCli(argv, io, { commands: TABLE });
  return { code, out: io.out, err: io.err };
}

describe('dispatch', () => {
  it('gives the container command everything after the image', async () => {
    const r = await cli(['run', '-it', '-e', 'A=1', '--name=web', 'busybox', 'sh', '-c', 'ls --help']);
    expect(r.code).toBe(0);
    expect(seen?.args).toEqual(['busybox', 'sh', '-c', 'ls --help']);
    expect(seen?.flags.list('env')).toEqual(['A=1']);
    expect(seen?.flags.bool('tty')).toBe(true);
  });

  it('keeps run -h for --hostname and --help after the image for the container', async () => {
    await cli(['run', '-h', 'box', 'busybox', '--help']);
    expect(seen?.flags.string('hostname')).toBe('box');
    expect(seen?.args).toEqual(['busybox', '--help']);
  });

  it('resolves aliases: images and image list are image ls', async () => {
    for (const argv of [
      ['images', '-q'],
      ['image', 'ls', '-q'],
      ['image', 'list', '-q'],
    ]) {
      await cli(argv);
      expect(seen?.commandPath).toBe('berth image ls');
      expect(seen?.flags.bool('quiet')).toBe(true);
    }
  });

  it('parses global flags before the command', async () => {
    await cli(['-D', '-H', 'unix:///a.sock', '--log-level=warn', 'tag', 'a', 'b']);
    expect(seen?.globals).toEqual({ debug: true, host: ['unix:///a.sock'], config: '', logLevel: 'warn' });
  });
});

describe('help', () => {
  it('prints top-level help grouped like docker', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage:  berth [OPTIONS] COMMAND');
    expect(r.out).toMatch(/Common Commands:\n {2}run {9}Create and run a new container from an image\n/);
    expect(r.out).toMatch(/Management Commands:\n {2}image {7}Manage images\n/);
    expect(r.out).toMatch(/\nCommands:\n {2}boom/);
    expect(r.out).toContain('  -D, --debug              Enable debug mode');
    expect((await cli([])).out).toBe(r.out);
  });

  it('prints command help for CMD --help, CMD -h and help CMD', async () => {
    const a = await cli(['tag', '--help']);
    expect(a.out).toBe('\nUsage:  berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nCreate a tag\n');
    expect((await cli(['tag', '-h'])).out).toBe(a.out);
    expect((await cli(['help', 'tag'])).out).toBe(a.out);
  });

  it('lists aliases and options', async () => {
    const r = await cli(['images', '--help']);
    expect(r.out).toContain('Aliases:\n  berth image ls, berth images, berth image list\n');
    expect(r.out).toContain('Options:\n  -q, --quiet   Only show image IDs\n');
  });

  it('prints a management command help with its subcommands', async () => {
    const r = await cli(['image']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage:  berth image COMMAND');
    expect(r.out).toContain('Commands:\n  ls          List images\n');
  });

  it('prints the version for --version and -v', async () => {
    const r = await cli(['--version']);
    expect(r.out).toMatch(
      new RegExp(`^berth version ${BERTH_VERSION.replace(/\./g, '\\.')}, build \\S+\\n$`),
    );
    expect((await cli(['-v'])).out).toBe(r.out);
  });
});

describe('errors', () => {
  it('unknown flag: exit 125 on stderr with a hint', async () => {
    const r = await cli(['run', '--foo', 'img']);
    expect(r.code).toBe(125);
    expect(r.out).toBe('');
    expect(r.err).toBe("unknown flag: --foo\nSee 'berth run --help'.\n");
  });

  it('unknown shorthand and missing argument', async () => {
    expect((await cli(['run', '-z', 'img'])).err).toBe(
      "unknown shorthand flag: 'z' in -z\nSee 'berth run --help'.\n",
    );
    expect((await cli(['run', '--name'])).err).toBe(
      "flag needs an argument: --name\nSee 'berth run --help'.\n",
    );
  });

  it('unknown global flag', async () => {
    const r = await cli(['--bogus', 'run']);
    expect(r.code).toBe(125);
    expect(r.err).toBe("unknown flag: --bogus\nSee 'berth --help'.\n");
  });

  it('unknown command and unknown subcommand', async () => {
    const r = await cli(['foo']);
    expect(r.code).toBe(125);
    expect(r.err).toBe("berth: 'foo' is not a berth command.\nSee 'berth --help'\n");
    expect((await cli(['image', 'nope'])).err).toBe(
      "berth: 'nope' is not a berth image command.\nSee 'berth image --help'\n",
    );
    expect((await cli(['help', 'nope'])).code).toBe(125);
  });

  it('wrong argument counts in docker words', async () => {
    const r = await cli(['tag', 'a']);
    expect(r.code).toBe(125);
    expect(r.err).toBe(
      '"berth tag" requires exactly 2 arguments.\nSee \'berth tag --help\'.\n\nUsage:  berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nCreate a tag\n',
    );
    expect((await cli(['run'])).err).toMatch(/^"berth run" requires at least 1 argument\.\n/);
    expect((await cli(['images', 'a', 'b'])).err).toMatch(
      /^"berth image ls" requires at most 1 argument\.\n/,
    );
  });

  it('bad log level', async () => {
    const r = await cli(['-l', 'loud', 'tag', 'a', 'b']);
    expect(r.code).toBe(125);
    expect(r.err).toBe('Unable to parse logging level: loud\n');
  });

  it('a bug prints the bug banner with the version', async () => {
    const r = await cli(['boom']);
    expect(r.code).toBe(125);
    expect(r.err).toBe(
      `this is a bug in berth ${BERTH_VERSION}, please report it: cannot read properties of undefined\n`,
    );
    expect((await cli(['-D', 'boom'])).err).toContain(
      'TypeError: cannot read properties of undefined\n    at',
    );
  });
});

describe('the real table', () => {
  const real = async (argv: string[]) => {
    const io = capture();
    const code = await runCli(argv, io);
    return { code, out: io.out, err: io.err };
  };

  it('berth version prints the Client and Server sections', async () => {
    const r = await real(['version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Client:\n Version: {11}\S+\n API version: {7}1\.43\n Node version: {6}v\d+/);
    expect(r.out).toContain('\nServer: berth engine (daemonless, in-process)\n Engine:\n  Version:');
    expect(r.out).toContain('  API version:      1.43 (minimum version 1.24)\n');
  });

  it('berth version --format', async () => {
    expect((await real(['version', '--format', '{{.Client.Version}}'])).out).toBe(`${BERTH_VERSION}\n`);
    expect((await real(['version', '-f', '{{.Server.ApiVersion}}'])).out).toBe('1.43\n');
    const json = JSON.parse((await real(['version', '--format', '{{json .}}'])).out);
    expect(json.Client.ApiVersion).toBe('1.43');
    expect(JSON.parse((await real(['version', '--format', 'json'])).out)).toEqual(json);
  });

  it('a template error exits 125 with docker text', async () => {
    const r = await real(['version', '--format', '{{.Client.Version']);
    expect(r.code).toBe(125);
    expect(r.err).toBe('template parsing error: template: :1: unclosed action\n');
  });

  it('version takes no arguments', async () => {
    expect((await real(['version', 'x'])).err).toMatch(/^"berth version" accepts no arguments\./);
  });
});
