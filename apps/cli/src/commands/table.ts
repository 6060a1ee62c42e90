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
  // images (docker's `image` management command; the classic top-level names are canonical so
  // the top-level help lists them as docker does, and `image <verb>` are aliases)
  { path: ['image'], usage: 'COMMAND', description: 'Manage images', group: 'management' },
  {
    path: ['pull'],
    aliases: [['image', 'pull']],
    usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
    description: 'Download an image from a registry',
    group: 'common',
    args: { exact: 1 },
    flags: [
      { name: 'all-tags', short: 'a', type: 'bool', help: 'Download all tagged images in the repository' },
      {
        name: 'disable-content-trust',
        type: 'bool',
        default: true,
        help: 'Skip image verification',
        hidden: true,
      },
      { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
    ],
    load: () => import('./pull.js'),
  },
  {
    path: ['push'],
    aliases: [['image', 'push']],
    usage: '[OPTIONS] NAME[:TAG]',
    description: 'Upload an image to a registry',
    group: 'common',
    args: { exact: 1 },
    flags: [
      {
        name: 'all-tags',
        short: 'a',
        type: 'bool',
        help: 'Push all tags of an image to the repository',
        hidden: true,
      },
      {
        name: 'disable-content-trust',
        type: 'bool',
        default: true,
        help: 'Skip image signing',
        hidden: true,
      },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
    ],
    load: () => import('./push.js'),
  },
  {
    path: ['images'],
    aliases: [
      ['image', 'ls'],
      ['image', 'list'],
    ],
    usage: '[OPTIONS] [REPOSITORY[:TAG]]',
    description: 'List images',
    group: 'common',
    args: { max: 1 },
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Show all images (default hides intermediate images)' },
      { name: 'digests', type: 'bool', help: 'Show digests' },
      {
        name: 'filter',
        short: 'f',
        type: 'string[]',
        help: 'Filter output based on conditions provided',
        placeholder: 'filter',
      },
      { name: 'format', type: 'string', help: FORMAT_HELP },
      { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
    ],
    load: () => import('./images.js'),
  },
  {
    path: ['rmi'],
    aliases: [
      ['image', 'rm'],
      ['image', 'remove'],
    ],
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    description: 'Remove one or more images',
    args: { min: 1 },
    flags: [
      { name: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' },
      { name: 'no-prune', type: 'bool', help: 'Do not delete untagged parents', hidden: true },
    ],
    load: () => import('./rmi.js'),
  },
  {
    path: ['tag'],
    aliases: [['image', 'tag']],
    usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    args: { exact: 2 },
    load: () => import('./tag.js'),
  },
  {
    path: ['image', 'inspect'],
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    description: 'Display detailed information on one or more images',
    args: { min: 1 },
    flags: [{ name: 'format', short: 'f', type: 'string', help: FORMAT_HELP }],
    load: () => import('./inspect.js'),
  },
  {
    path: ['inspect'],
    usage: '[OPTIONS] NAME|ID [NAME|ID...]',
    description: 'Return low-level information on Docker objects',
    args: { min: 1 },
    flags: [
      { name: 'format', short: 'f', type: 'string', help: FORMAT_HELP },
      { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes if the type is container' },
      { name: 'type', type: 'string', help: 'Return JSON for specified type' },
    ],
    load: () => import('./inspect.js'),
  },
  {
    path: ['history'],
    aliases: [['image', 'history']],
    usage: '[OPTIONS] IMAGE',
    description: 'Show the history of an image',
    args: { exact: 1 },
    flags: [
      { name: 'format', type: 'string', help: FORMAT_HELP },
      {
        name: 'human',
        short: 'H',
        type: 'bool',
        default: true,
        help: 'Print sizes and dates in human readable format',
      },
      { name: 'no-trunc', type: 'bool', help: "Don't truncate output" },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
    ],
    load: () => import('./history.js'),
  },
  {
    path: ['save'],
    aliases: [['image', 'save']],
    usage: '[OPTIONS] IMAGE [IMAGE...]',
    description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    args: { min: 1 },
    flags: [
      { name: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT' },
      {
        name: 'format',
        type: 'string',
        default: 'docker',
        help: 'Archive format: "docker" (docker-archive) or "oci" (OCI image layout)',
      },
    ],
    load: () => import('./save.js'),
  },
  {
    path: ['load'],
    aliases: [['image', 'load']],
    usage: '[OPTIONS]',
    description: 'Load an image from a tar archive or STDIN',
    args: { exact: 0 },
    flags: [
      { name: 'input', short: 'i', type: 'string', help: 'Read from tar archive file, instead of STDIN' },
      { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the load output' },
    ],
    load: () => import('./load.js'),
  },
  {
    path: ['image', 'prune'],
    usage: '[OPTIONS]',
    description: 'Remove unused images',
    args: { exact: 0 },
    flags: [
      { name: 'all', short: 'a', type: 'bool', help: 'Remove all unused images, not just dangling ones' },
      { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
    ],
    load: () => import('./image-prune.js'),
  },
  { path: ['system'], usage: 'COMMAND', description: 'Manage berth', group: 'management' },
  {
    path: ['system', 'df'],
    usage: '[OPTIONS]',
    description: 'Show docker disk usage',
    args: { exact: 0 },
    flags: [{ name: 'format', type: 'string', help: FORMAT_HELP }],
    load: () => import('./system-df.js'),
  },
  {
    path: ['login'],
    usage: '[OPTIONS] [SERVER]',
    description: 'Log in to a registry',
    group: 'common',
    args: { max: 1 },
    flags: [
      { name: 'password', short: 'p', type: 'string', help: 'Password' },
      { name: 'password-stdin', type: 'bool', help: 'Take the password from stdin' },
      { name: 'username', short: 'u', type: 'string', help: 'Username' },
    ],
    load: () => import('./login.js'),
  },
  {
    path: ['logout'],
    usage: '[SERVER]',
    description: 'Log out from a registry',
    group: 'common',
    args: { max: 1 },
    load: () => import('./logout.js'),
  },
];
