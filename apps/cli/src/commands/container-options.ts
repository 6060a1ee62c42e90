import { readFile } from 'node:fs/promises';
import { type CreateContainerOptions, parseRamBytes } from '@berth/engine';
import { BerthError } from '@berth/oci';
import { createProgressRenderer } from '../format/progress.js';
import type { CommandContext } from './spec.js';

/**
 * `docker run`/`docker create` flags → the engine's CreateContainerOptions. Values are checked
 * here the way docker's client checks them (`--cpus`, `-m`, `--env-file`, `--tmpfs`, `-l`).
 */

function bad(flag: string, why: string): BerthError {
  return new BerthError('FLAG_INVALID', `invalid argument for "${flag}" flag: ${why}`, {
    input: { field: flag },
  });
}

/** docker's env-file format: `NAME=value` or a bare `NAME`, `#` comments, blank lines skipped. */
export async function envFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new BerthError('INVALID_OPTION', `open ${path}: ${(cause as Error).message}`, {
      input: { field: 'env-file' },
      cause,
    });
  }
  const out: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const name = line.split('=')[0] ?? '';
    if (/\s/.test(name) || name === '')
      throw new BerthError('INVALID_OPTION', `${path}:${i + 1}: variable '${name}' contains whitespaces`, {
        input: { file: path, line: i + 1 },
      });
    out.push(line);
  }
  return out;
}

function keyValues(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw bad(flag, `bad format: ${kv}`);
    if (eq < 0) out[kv] = '';
    else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** The create options from run/create flags, the image and the command after it (`detach`: run -d). */
export async function createOptions(
  ctx: CommandContext,
  { detach = false }: { detach?: boolean } = {},
): Promise<CreateContainerOptions> {
  const f = ctx.flags;
  const [image, ...cmd] = ctx.args;
  if (image === undefined) throw new BerthError('USAGE', 'image required');
  const env = [];
  for (const file of f.list('env-file')) env.push(...(await envFile(file)));
  env.push(...f.list('env'));
  const pull = f.string('pull');
  if (pull !== 'missing' && pull !== 'always' && pull !== 'never')
    throw bad('--pull', `invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  const tmpfs: Record<string, string> = {};
  for (const t of f.list('tmpfs')) {
    const colon = t.indexOf(':');
    tmpfs[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? '' : t.slice(colon + 1);
  }
  const labels = keyValues(f.list('label'), '--label');
  const o: CreateContainerOptions = {
    image,
    ...(cmd.length ? { cmd } : {}),
    env,
    envLookup: (n) => ctx.io.env[n],
    labels,
    pull,
    network: f.string('network') === 'default' ? 'none' : f.string('network') || 'none',
    securityOpt: f.list('security-opt'),
    ulimits: f.list('ulimit'),
    capAdd: f.list('cap-add'),
    capDrop: f.list('cap-drop'),
    logOpts: keyValues(f.list('log-opt'), '--log-opt'),
  };
  if (Object.keys(tmpfs).length) o.tmpfs = tmpfs;
  if (f.changed('name')) o.name = f.string('name');
  if (f.changed('workdir')) o.workdir = f.string('workdir');
  if (f.changed('user')) o.user = f.string('user');
  if (f.changed('hostname')) o.hostname = f.string('hostname');
  if (f.changed('entrypoint')) o.entrypoint = f.string('entrypoint') === '' ? [] : [f.string('entrypoint')];
  if (f.changed('platform')) o.platform = f.string('platform');
  if (f.bool('read-only')) o.readOnly = true;
  if (f.bool('init')) o.init = true;
  if (f.bool('privileged')) o.privileged = true;
  if (f.changed('memory')) o.memory = parseRamBytes(f.string('memory'), 'memory');
  if (f.changed('cpus')) {
    const c = Number(f.string('cpus'));
    if (!Number.isFinite(c) || c < 0)
      throw bad('--cpus', `failed to parse ${f.string('cpus')} as a rational number`);
    o.cpus = c;
  }
  if (f.changed('pids-limit')) o.pidsLimit = f.number('pids-limit');
  if (f.changed('stop-signal')) o.stopSignal = f.string('stop-signal');
  if (f.changed('stop-timeout')) o.stopTimeout = f.number('stop-timeout');
  if (f.changed('restart')) o.restart = f.string('restart');
  if (f.changed('runtime')) o.runtime = f.string('runtime');
  if (f.changed('userns')) o.userns = f.string('userns');
  if (f.list('uidmap').length) o.uidmap = f.list('uidmap');
  if (f.list('gidmap').length) o.gidmap = f.list('gidmap');
  const attach = f.list('attach').map((a) => a.toLowerCase());
  for (const a of attach)
    if (a !== 'stdin' && a !== 'stdout' && a !== 'stderr')
      throw bad('--attach', `valid streams are STDIN, STDOUT and STDERR`);
  // docker's parse (cli/command/container/opts.go) and runContainer: -i attaches and keeps
  // stdin (closed at the client's EOF), no -a means stdout and stderr, -d attaches nothing
  const interactive = f.bool('interactive');
  if (f.bool('tty')) o.tty = true;
  if (interactive) o.openStdin = true;
  if (detach) {
    if (attach.length) throw new BerthError('USAGE', 'Conflicting options: -a and -d');
    o.attach = [];
  } else {
    const streams = new Set(attach.length ? attach : ['stdout', 'stderr']);
    if (interactive) {
      streams.add('stdin');
      o.stdinOnce = true;
    }
    o.attach = [...streams] as ('stdin' | 'stdout' | 'stderr')[];
  }
  if (f.bool('rm')) o.autoRemove = true;
  // docker's durations are nanoseconds in the API; the flags parse to milliseconds
  const health: NonNullable<CreateContainerOptions['health']> = {};
  if (f.changed('health-cmd')) health.cmd = f.string('health-cmd');
  if (f.changed('health-interval')) health.interval = f.duration('health-interval') * 1e6;
  if (f.changed('health-timeout')) health.timeout = f.duration('health-timeout') * 1e6;
  if (f.changed('health-start-period')) health.startPeriod = f.duration('health-start-period') * 1e6;
  if (f.changed('health-retries')) health.retries = f.number('health-retries');
  if (f.bool('no-healthcheck')) health.none = true;
  if (Object.keys(health).length) o.health = health;
  // a missing image: docker's client says so on stderr, then shows the pull there
  // made on first use: process.stderr is a stream (node:net on a pipe) a local image never needs
  let renderer: ReturnType<typeof createProgressRenderer> | undefined;
  const progress = () => {
    const err = ctx.io.stderr;
    renderer ??= createProgressRenderer({
      out: err,
      tty: err.isTTY === true,
      ...(err.columns === undefined ? {} : { columns: err.columns }),
    });
    return renderer;
  };
  o.onPullStart = (ref) => {
    if (pull === 'missing')
      ctx.io.stderr.write(
        `Unable to find image '${ref.includes(':') || ref.includes('@') ? ref : `${ref}:latest`}' locally\n`,
      );
  };
  o.onProgress = (e) =>
    progress().update({
      ...(e.id === undefined ? {} : { id: e.id }),
      status: e.status,
      ...(e.current === undefined ? {} : { current: e.current }),
      ...(e.total === undefined ? {} : { total: e.total }),
    });
  return o;
}
