import type { CommandSpec, FlagSpec } from './spec.js';

/**
 * The command table: every `berth` command, declared as data. Handlers are imported only when
 * their command runs, so `berth version` loads nothing else.
 */

const FORMAT_HELP =
  "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

/** The global flags, accepted before the command name. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'config', type: 'string', help: 'Location of client config files' },
  { name: 'debug', short: 'D', type: 'bool', help: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'string[]', help: 'Daemon socket to connect to' },
  {
    name: 'log-level',
    short: 'l',
    type: 'string',
    default: 'info',
    help: 'Set the logging level ("debug", "info", "warn", "error", "fatal")',
  },
  { name: 'version', short: 'v', type: 'bool', help: 'Print version information and quit' },
  { name: 'help', short: 'h', type: 'bool', help: 'Print usage', hidden: true },
];

/** Every command. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    path: ['version'],
    usage: '[OPTIONS]',
    description: 'Show the berth version information',
    group: 'common',
    args: { exact: 0 },
    flags: [{ name: 'format', short: 'f', type: 'string', help: FORMAT_HELP }],
    load: () => import('./version.js'),
  },
];
