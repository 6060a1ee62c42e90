import type { CliIO } from '../io.js';
import type { FlagSpec } from '../parse/flag-spec.js';
import type { FlagValues } from '../parse/flags.js';

export type { FlagSpec, FlagType } from '../parse/flag-spec.js';

/** How many positional arguments a command takes; docker's `cli.ExactArgs`, `RequiresMinArgs`… */
export type ArgsRule = { exact: number } | { min?: number; max?: number };

/** Where a command is listed in the top-level help. */
export type CommandGroup = 'common' | 'management' | 'other';

/** What a handler receives. */
export interface CommandContext {
  /** Standard streams and environment. */
  io: CliIO;
  /** Positional arguments after the command name. */
  args: string[];
  /** The command's parsed flags. */
  flags: FlagValues;
  /** The global flags given before the command. */
  globals: GlobalOptions;
  /** The command's full path as typed by its canonical name: `berth image ls`. */
  commandPath: string;
}

/** The global flags (`berth [OPTIONS] COMMAND`). */
export interface GlobalOptions {
  /** `-D/--debug`. */
  debug: boolean;
  /** `-H/--host`, repeatable. */
  host: string[];
  /** `--config`, or '' when not given. */
  config: string;
  /** `-l/--log-level`. */
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
}

/** A command's implementation: returns the exit code (0 when it returns nothing) or throws. */
export type CommandHandler = (ctx: CommandContext) => Promise<number | undefined>;

/** A lazily imported handler module: `() => import('./commands/version.js')`. */
export type HandlerLoader = () => Promise<{ run: CommandHandler }>;

/**
 * A command, declared as data. A later issue adds a command by appending one of these to the
 * table in table.ts and writing its handler module; the parser, help and errors come for free.
 */
export interface CommandSpec {
  /** Canonical path: `['version']`, `['image', 'ls']`. */
  path: readonly string[];
  /** Other paths that run the same command: `[['images'], ['image', 'list']]`. */
  aliases?: ReadonlyArray<readonly string[]>;
  /** What follows the path in the usage line: `[OPTIONS] IMAGE [COMMAND] [ARG...]`. */
  usage: string;
  /** One-line description for listings and help. */
  description: string;
  /** Runs, but is listed nowhere (the shim's hooks). */
  hidden?: boolean;
  /** Top-level help section (top-level commands only); default `other`. */
  group?: CommandGroup;
  /** The command's flags. */
  flags?: readonly FlagSpec[];
  /** Positional argument count; default any. */
  args?: ArgsRule;
  /**
   * false for docker's `SetInterspersed(false)` commands (run, create, exec): flags end at the
   * first positional, and everything after the image belongs to the container's command.
   */
  interspersed?: boolean;
  /** The handler; absent for a management command that only groups subcommands (`image`). */
  load?: HandlerLoader;
}
