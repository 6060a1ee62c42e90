import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ContainerHooks, createEngine, type Engine, type ImageProgressEvent } from '@berth/engine';
import { createProgressRenderer } from '../format/progress.js';
import type { CommandContext } from './spec.js';

/**
 * What the image commands share: the engine opened from the CLI's environment, and docker's
 * progress display. `$BERTH_ROOT` (default `/var/lib/berth`) is the state root;
 * `--config`/`$DOCKER_CONFIG` (default `~/.docker`) holds registry credentials;
 * `$BERTH_INSECURE_REGISTRIES` (comma-separated `host[:port]`) adds plain-HTTP registries
 * besides loopback.
 */

/** The state root the CLI uses. */
export function stateRoot(env: CommandContext['io']['env']): string {
  return env.BERTH_ROOT !== undefined && env.BERTH_ROOT !== '' ? env.BERTH_ROOT : '/var/lib/berth';
}

/** Opens the engine for a command; close it when done ({@link withEngine}). */
export async function openEngine(ctx: CommandContext): Promise<Engine> {
  const env = ctx.io.env;
  const dockerConfigDir =
    ctx.globals.config !== ''
      ? ctx.globals.config
      : env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== ''
        ? env.DOCKER_CONFIG
        : join(env.HOME ?? homedir(), '.docker');
  const insecure = (env.BERTH_INSECURE_REGISTRIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  // the launcher (src/berth.sh) moved NODE_EXTRA_CA_CERTS to BERTH_EXTRA_CA_CERTS so that node
  // did not parse it at start: the registry client reads it on its first TLS connection, and
  // credential helpers (maybe Node programs) get it back under its own name. Run as plain
  // `node berth.js`, the registry client needs it too: its context adds CAs, and on Node 20 a
  // context that adds any CA no longer holds NODE_EXTRA_CA_CERTS's.
  const caFile = env.BERTH_EXTRA_CA_CERTS || env.NODE_EXTRA_CA_CERTS;
  const extraCa =
    caFile === undefined || caFile === ''
      ? {}
      : { caFiles: [caFile], helperEnv: { ...env, NODE_EXTRA_CA_CERTS: caFile } };
  return createEngine({
    root: stateRoot(env),
    registry: { dockerConfigDir, insecure, ...extraCa },
    shim: shimSearch(env),
    hooks: selfHooks(env),
  });
}

/** What the shim's hooks keep of this process's environment (besides BERTH_ROOT). */
const HOOK_ENV = [
  'PATH',
  'HOME',
  'BERTH_SHIM',
  'DOCKER_CONFIG',
  'BERTH_INSECURE_REGISTRIES',
  'BERTH_EXTRA_CA_CERTS',
  'TZ',
  'LANG',
];

/**
 * berth-shim's hooks call this same CLI (the same node, flags and entry script, so a checkout
 * run through tsx calls itself the same way) with the same state root: `container cleanup ID`
 * when a container exits, `container healthcheck ID` on the health interval.
 */
export function selfHooks(env: CommandContext['io']['env']): ContainerHooks {
  const self = [process.execPath, ...process.execArgv, resolve(process.argv[1] ?? '')];
  return {
    exit: [...self, 'container', 'cleanup'],
    health: [...self, 'container', 'healthcheck'],
    env: [
      `BERTH_ROOT=${resolve(stateRoot(env))}`,
      ...HOOK_ENV.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => `${k}=${env[k]}`),
    ],
    cwd: process.cwd(),
  };
}

/**
 * Where berth-shim is: `$BERTH_SHIM`, then a development checkout's build (beside this bundle or
 * these sources), then `$PATH`.
 */
export function shimSearch(env: CommandContext['io']['env']): { path?: string; searchPath: string } {
  const dev = ['../../../packages/runtime/native/build', '../../../../packages/runtime/native/build'].map(
    (p) => fileURLToPath(new URL(p, import.meta.url)),
  );
  return {
    ...(env.BERTH_SHIM ? { path: env.BERTH_SHIM } : {}),
    searchPath: [...dev, env.PATH ?? ''].join(':'),
  };
}

/** Runs `fn` with an engine, closing it afterwards. */
export async function withEngine<T>(ctx: CommandContext, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await openEngine(ctx);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/** docker's jsonmessage display on stdout: bars on a terminal, plain lines otherwise. */
export function progressPrinter(ctx: CommandContext): (e: ImageProgressEvent) => void {
  const out = ctx.io.stdout;
  const renderer = createProgressRenderer({
    out,
    tty: out.isTTY === true,
    ...(out.columns === undefined ? {} : { columns: out.columns }),
  });
  return (e) =>
    renderer.update({
      ...(e.id === undefined ? {} : { id: e.id }),
      status: e.status,
      ...(e.current === undefined ? {} : { current: e.current }),
      ...(e.total === undefined ? {} : { total: e.total }),
    });
}

/** Reads all of standard input (for `--password-stdin`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * docker's prune prompt: prints the warning and `Are you sure you want to continue? [y/N] `, then
 * reads one line of standard input; only `y` or `yes` continues.
 */
export async function confirm(ctx: CommandContext, message: string): Promise<boolean> {
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
