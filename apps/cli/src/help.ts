import type { CommandSpec, FlagSpec } from './commands/spec.js';
import { formatGoDuration } from './parse/go-values.js';

/** `--help` text laid out like docker's cobra usage template. */

const PLACEHOLDER: Record<FlagSpec['type'], string> = {
  bool: '',
  string: 'string',
  'string[]': 'list',
  number: 'int',
  duration: 'duration',
};

function defaultText(f: FlagSpec): string {
  const d = f.default;
  switch (f.type) {
    case 'bool':
      return d === true ? ' (default true)' : '';
    case 'string':
      return typeof d === 'string' && d !== '' ? ` (default ${JSON.stringify(d)})` : '';
    case 'number':
      return typeof d === 'number' && d !== 0 ? ` (default ${d})` : '';
    case 'duration':
      return typeof d === 'number' && d !== 0 ? ` (default ${formatGoDuration(d)})` : '';
    case 'string[]':
      return Array.isArray(d) && d.length > 0 ? ` (default [${d.join(',')}])` : '';
  }
}

/** pflag's FlagUsages: `  -f, --format string   help`, names aligned, sorted by long name, hidden flags left out. */
export function flagUsages(flags: readonly FlagSpec[]): string {
  const visible = [...flags]
    .filter((f) => !f.hidden)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const heads = visible.map((f) => {
    let line = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const varname = f.placeholder ?? PLACEHOLDER[f.type];
    if (varname) line += ` ${varname}`;
    return line;
  });
  const maxlen = Math.max(0, ...heads.map((h) => h.length));
  return visible
    .map((f, i) => {
      const head = heads[i] as string;
      const indent = ' '.repeat(maxlen + 3);
      const usage = (f.help + defaultText(f)).replace(/\n/g, `\n${indent}`);
      return `${head}${' '.repeat(maxlen - head.length + 3)}${usage}`;
    })
    .join('\n');
}

/** The usage line of a command: `berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`. */
export function useLine(bin: string, spec: CommandSpec): string {
  return [bin, ...spec.path, spec.usage].filter((p) => p !== '').join(' ');
}

function aliasLine(bin: string, spec: CommandSpec): string {
  const paths = [spec.path, ...(spec.aliases ?? [])];
  return paths.map((p) => [bin, ...p].join(' ')).join(', ');
}

function commandList(cmds: readonly CommandSpec[], level: number): string {
  const names = cmds.map((c) => c.path[level] ?? '');
  const pad = Math.max(11, ...names.map((n) => n.length)) + 1;
  return cmds.map((c, i) => `  ${(names[i] ?? '').padEnd(pad)}${c.description}`).join('\n');
}

/** Help for one command (or a management command with its subcommands). */
export function commandHelp(
  bin: string,
  spec: CommandSpec,
  subcommands: readonly CommandSpec[] = [],
): string {
  const flags = spec.flags ?? [];
  const hasFlags = flags.some((f) => !f.hidden);
  let out = '\n';
  if (subcommands.length > 0 && !spec.load) {
    out += `Usage:  ${[bin, ...spec.path].join(' ')}${hasFlags ? ' [OPTIONS]' : ''} COMMAND\n\n${spec.description}\n`;
  } else {
    out += `Usage:  ${useLine(bin, spec)}\n\n${spec.description}\n`;
  }
  if ((spec.aliases ?? []).length > 0) out += `\nAliases:\n  ${aliasLine(bin, spec)}\n`;
  if (subcommands.length > 0) out += `\nCommands:\n${commandList(subcommands, spec.path.length)}\n`;
  if (hasFlags) out += `\nOptions:\n${flagUsages(flags)}\n`;
  if (subcommands.length > 0)
    out += `\nRun '${[bin, ...spec.path].join(' ')} COMMAND --help' for more information on a command.\n`;
  return out;
}

/** Options of {@link topLevelHelp}. */
export interface TopLevelHelpOptions {
  /** The binary name. */
  bin: string;
  /** One line about the program. */
  description: string;
  /** Top-level commands (paths of length 1). */
  commands: readonly CommandSpec[];
  /** Global flags. */
  globalFlags: readonly FlagSpec[];
}

/** `berth --help`: commands grouped as docker groups them, then the global options. */
export function topLevelHelp(options: TopLevelHelpOptions): string {
  const { bin, commands } = options;
  let out = `\nUsage:  ${bin} [OPTIONS] COMMAND\n\n${options.description}\n`;
  const sections: Array<[string, CommandSpec['group']]> = [
    ['Common Commands', 'common'],
    ['Management Commands', 'management'],
    ['Commands', 'other'],
  ];
  for (const [title, group] of sections) {
    const list = commands.filter((c) => (c.group ?? 'other') === group);
    if (list.length === 0) continue;
    const sorted =
      group === 'common' ? list : [...list].sort((a, b) => ((a.path[0] ?? '') < (b.path[0] ?? '') ? -1 : 1));
    out += `\n${title}:\n${commandList(sorted, 0)}\n`;
  }
  out += `\nGlobal Options:\n${flagUsages(options.globalFlags)}\n`;
  out += `\nRun '${bin} COMMAND --help' for more information on a command.\n`;
  return out;
}
