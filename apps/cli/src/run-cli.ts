import type { CommandSpec, FlagSpec, GlobalOptions } from './commands/spec.js';
import { COMMANDS, GLOBAL_FLAGS } from './commands/table.js';
import { reportError, UsageError } from './errors.js';
import { commandHelp, topLevelHelp, useLine } from './help.js';
import type { CliIO } from './io.js';
import { FlagError, parseFlags } from './parse/flags.js';
import { BERTH_VERSION, GIT_COMMIT } from './version-info.js';

/** The binary's name, as it appears in usage and errors. */
export const BIN = 'berth';

const DESCRIPTION = 'A daemonless, Docker-compatible container engine';
const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'bool', help: 'Print usage', hidden: true };
const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** The command table; default the real one (tests pass their own). */
  commands?: readonly CommandSpec[];
}

function pathsOf(spec: CommandSpec): ReadonlyArray<readonly string[]> {
  return [spec.path, ...(spec.aliases ?? [])];
}

/** Finds the command named by the leading words of `words`: the longest matching path or alias. */
function resolve(
  commands: readonly CommandSpec[],
  words: readonly string[],
): { spec: CommandSpec; used: number } | undefined {
  let best: { spec: CommandSpec; used: number } | undefined;
  for (const spec of commands) {
    for (const p of pathsOf(spec)) {
      if (p.length <= words.length && p.every((w, i) => words[i] === w) && (!best || p.length > best.used)) {
        best = { spec, used: p.length };
      }
    }
  }
  return best;
}

function subcommandsOf(commands: readonly CommandSpec[], spec: CommandSpec): CommandSpec[] {
  return commands.filter(
    (c) => !c.hidden && c.path.length === spec.path.length + 1 && spec.path.every((w, i) => c.path[i] === w),
  );
}

function flagError(err: FlagError, path: readonly string[]): UsageError {
  return new UsageError(`${err.message}\nSee '${[BIN, ...path].join(' ')} --help'.`);
}

function plural(n: number): string {
  return n === 1 ? 'argument' : 'arguments';
}

/** docker's cli/required.go messages for a wrong argument count. */
function checkArgs(spec: CommandSpec, args: readonly string[]): void {
  const rule = spec.args;
  if (!rule) return;
  const path = [BIN, ...spec.path].join(' ');
  const tail = `\nSee '${path} --help'.\n\nUsage:  ${useLine(BIN, spec)}\n\n${spec.description}`;
  const n = args.length;
  if ('exact' in rule) {
    if (n === rule.exact) return;
    if (rule.exact === 0) throw new UsageError(`"${path}" accepts no arguments.${tail}`);
    throw new UsageError(`"${path}" requires exactly ${rule.exact} ${plural(rule.exact)}.${tail}`);
  }
  const { min, max } = rule;
  if (min !== undefined && max !== undefined && (n < min || n > max)) {
    throw new UsageError(`"${path}" requires at least ${min} and at most ${max} ${plural(max)}.${tail}`);
  }
  if (min !== undefined && n < min)
    throw new UsageError(`"${path}" requires at least ${min} ${plural(min)}.${tail}`);
  if (max !== undefined && n > max)
    throw new UsageError(`"${path}" requires at most ${max} ${plural(max)}.${tail}`);
}

function unknownCommand(word: string, parent: readonly string[]): UsageError {
  const where = [BIN, ...parent].join(' ');
  return new UsageError(`${BIN}: '${word}' is not a ${where} command.\nSee '${where} --help'`);
}

/**
 * Runs the berth command line in-process and returns the exit status. `argv` excludes the node
 * binary and script (`process.argv.slice(2)`); output goes to `io`, never to the console.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIO,
  options: RunCliOptions = {},
): Promise<number> {
  const commands = options.commands ?? COMMANDS;
  let debug = false;
  try {
    // Global flags end at the command name.
    let global: ReturnType<typeof parseFlags>;
    try {
      global = parseFlags(argv, { flags: GLOBAL_FLAGS, interspersed: false });
    } catch (e) {
      if (e instanceof FlagError) throw flagError(e, []);
      throw e;
    }
    const g = global.values;
    debug = g.bool('debug');
    const logLevel = g.string('log-level');
    if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
      throw new UsageError(`Unable to parse logging level: ${logLevel}`);
    }
    const globals: GlobalOptions = {
      debug,
      host: g.list('host'),
      config: g.string('config'),
      logLevel: logLevel as GlobalOptions['logLevel'],
    };
    const topLevel = commands.filter((c) => c.path.length === 1);
    const printTop = (): number => {
      io.stdout.write(
        topLevelHelp({ bin: BIN, description: DESCRIPTION, commands: topLevel, globalFlags: GLOBAL_FLAGS }),
      );
      return 0;
    };
    if (g.bool('version')) {
      io.stdout.write(`${BIN} version ${BERTH_VERSION}, build ${GIT_COMMIT}\n`);
      return 0;
    }
    let words = global.args;
    if (g.bool('help') || words.length === 0) return printTop();

    // `berth help [COMMAND...]` is `berth COMMAND... --help`.
    let wantHelp = false;
    if (words[0] === 'help' && !resolve(commands, ['help'])) {
      words = words.slice(1);
      if (words.length === 0) return printTop();
      wantHelp = true;
    }

    const found = resolve(commands, words);
    if (!found) throw unknownCommand(words[0] as string, []);
    const { spec } = found;
    let rest = words.slice(found.used);
    const subs = subcommandsOf(commands, spec);

    if (!spec.load) {
      // A management command: it only groups subcommands.
      const next = rest.find((w) => !w.startsWith('-'));
      if (wantHelp || rest.length === 0 || rest.every((w) => w === '--help' || w === '-h')) {
        io.stdout.write(commandHelp(BIN, spec, subs));
        return 0;
      }
      throw unknownCommand(next ?? (rest[0] as string), spec.path);
    }
    if (wantHelp) {
      io.stdout.write(commandHelp(BIN, spec, subs));
      return 0;
    }

    let parsed: ReturnType<typeof parseFlags>;
    try {
      const own = spec.flags ?? [];
      // Like cobra, --help gets the -h shorthand only when the command does not use it (run -h is --hostname).
      const help = own.some((f) => f.short === 'h') ? { ...HELP_FLAG, short: undefined } : HELP_FLAG;
      parsed = parseFlags(rest, { flags: [...own, help], interspersed: spec.interspersed ?? true });
    } catch (e) {
      if (e instanceof FlagError) throw flagError(e, spec.path);
      throw e;
    }
    if (parsed.values.bool('help')) {
      io.stdout.write(commandHelp(BIN, spec, subs));
      return 0;
    }
    rest = parsed.args;
    checkArgs(spec, rest);
    const mod = await spec.load();
    const code = await mod.run({
      io,
      args: rest,
      flags: parsed.values,
      globals,
      commandPath: [BIN, ...spec.path].join(' '),
    });
    return code ?? 0;
  } catch (err) {
    return reportError(err, { io, version: BERTH_VERSION, debug });
  }
}
