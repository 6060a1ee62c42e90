/**
 * Test helper: `berth` as a person runs it, each command a separate process of the built bundle
 * (testing/cli-bundle.ts: no tsx start per command) over one private state root, and the
 * in-process runner for tests that need no process of their own. One copy for every CLI test.
 *
 * @example
 * ```ts
 * const cli = cliHarness('bt');
 * beforeAll(() => cli.setup());
 * afterEach(() => cli.removeContainers());
 * afterAll(() => cli.dispose());
 * it('runs', async () => expect(await cli.ok('run', '--rm', 'busybox', 'echo', 'hi')).toBe('hi\n'));
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixtures } from '@berth/fixtures';
import type { CliIO } from '../io.js';
import { runCli } from '../run-cli.js';
import { cliBundle } from './cli-bundle.js';

/** The CLI package's directory (the children's working directory). */
export const cliDir = fileURLToPath(new URL('../..', import.meta.url));
/** The berth-shim the package build makes, passed as `$BERTH_SHIM`. */
export const shimPath = join(cliDir, '../../packages/runtime/native/build/berth-shim');

/** How a child ended and what it printed. */
export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Each child's end, collected from its spawn on (see {@link finish}). */
const ends = new WeakMap<ChildProcess, Promise<Result>>();

/**
 * How `child` ended and all it printed. The collection starts at the first call, and
 * {@link CliHarness.start} makes that call at spawn: a test that waits for something else first
 * (a kill racing the child's own exit) still gets the end, which a `'close'` listener attached
 * after the event would never see.
 */
export function finish(child: ChildProcess): Promise<Result> {
  let end = ends.get(child);
  if (!end) {
    end = collect(child);
    // a child nobody waits for must not fail the run with an unhandled rejection
    end.catch(() => {});
    ends.set(child, end);
  }
  return end;
}

function collect(child: ChildProcess): Promise<Result> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs a host command (tar, ip, umount …) to its end. */
export const host = (cmd: string, ...args: string[]): Promise<Result> =>
  finish(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns something other than `undefined` or `false`, and returns that:
 * a deadline for a state to be reached, not a timing assertion.
 */
export async function until<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Unmounts, deepest first, whatever is still mounted under `dir` (a test's leftovers). */
export async function unmountUnder(dir: string): Promise<void> {
  for (const l of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').reverse()) {
    const mp = l.split(' ')[4];
    if (mp?.startsWith(dir)) await host('umount', '-l', mp);
  }
}

/** What {@link runInProcess} captured. */
export interface InProcessResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `berth ARGV` in this process (no child, no start cost) with `env` as its whole environment. */
export async function runInProcess(env: Record<string, string>, ...argv: string[]): Promise<InProcessResult> {
  const r = { out: '', err: '' };
  const io: CliIO = {
    stdout: { write: (s: string) => (r.out += s) },
    stderr: { write: (s: string) => (r.err += s) },
    env,
  };
  const code = await runCli(argv, io);
  return { code, ...r };
}

/** Single-quotes a word for sh. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Options of {@link cliHarness}. */
export interface HarnessOptions {
  /** Variables added to the children's environment (besides BERTH_ROOT, BERTH_SHIM, NO_COLOR). */
  env?: Record<string, string>;
}

/** Options of {@link CliHarness.start}. */
export interface StartOptions {
  stdin?: 'ignore' | 'pipe';
  /** Overrides of the environment (another BERTH_ROOT, say). */
  env?: Record<string, string>;
}

/** `berth` in separate processes over one private state root; see {@link cliHarness}. */
export interface CliHarness {
  /** The state root (`/tmp/<prefix><pid>-XXXXXX`, short: berth-shim's sockets live under it). */
  readonly root: string;
  /** The bundle the children run. */
  readonly bin: string;
  /** BERTH_ROOT, BERTH_SHIM, NO_COLOR and the options' env: what the children get besides process.env. */
  readonly vars: Record<string, string>;
  /** Builds (when stale) the bundle and makes the state root. */
  setup(): Promise<void>;
  /** `node BUNDLE ARGS…` as an argv. */
  argv(args: string[]): string[];
  /** `VAR=… node BUNDLE ARGS…` quoted for sh (tmux panes, shell scripts). */
  shell(args: string[]): string;
  /** Starts `berth ARGS` with piped stdout and stderr, collected from the start for {@link finish}. */
  start(args: string[], options?: StartOptions): ChildProcess;
  /** Runs `berth ARGS` to its end. */
  berth(...args: string[]): Promise<Result>;
  /** Runs `berth ARGS` with `input` on its stdin (a pipe, not a terminal). */
  berthIn(input: string, ...args: string[]): Promise<Result>;
  /** Runs `berth ARGS` and returns its stdout; throws naming the command on a non-zero exit. */
  ok(...args: string[]): Promise<string>;
  /**
   * Loads the offline busybox fixture (Debian's busybox-static as a docker-archive) into the
   * root; returns the archive's path and what `load` printed.
   */
  loadBusybox(): Promise<{ archive: string; output: string }>;
  /** Removes every container of the root (`rm -f` of `ps -aq`). */
  removeContainers(): Promise<void>;
  /** Removes the containers, unmounts what is left under the root, removes it and a private bundle. */
  dispose(): Promise<void>;
}

/**
 * A harness whose state root is made by {@link CliHarness.setup} under `/tmp/<prefix><pid>-`.
 * Its methods may be passed around unbound.
 */
export function cliHarness(prefix: string, options: HarnessOptions = {}): CliHarness {
  let root = '';
  let bin = '';
  let dispose = async () => {};
  const vars = () => ({ ...options.env, BERTH_ROOT: root, BERTH_SHIM: shimPath, NO_COLOR: '1' });
  const argv = (args: string[]) => [process.execPath, bin, ...args];
  const start = (args: string[], o: StartOptions = {}): ChildProcess => {
    if (!bin) throw new Error('cliHarness: setup() has not run');
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: cliDir,
      env: { ...process.env, ...vars(), ...o.env },
      stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    finish(child);
    return child;
  };
  const berth = (...args: string[]) => finish(start(args));
  const ok = async (...args: string[]): Promise<string> => {
    const r = await berth(...args);
    if (r.code !== 0) throw new Error(`berth ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const removeContainers = async () => {
    const ids = (await berth('ps', '-aq', '--no-trunc')).stdout.split('\n').filter(Boolean);
    if (ids.length) await berth('rm', '-f', ...ids);
  };
  return {
    get root() {
      return root;
    },
    get bin() {
      return bin;
    },
    get vars() {
      return vars();
    },
    async setup() {
      const bundle = await cliBundle();
      bin = bundle.bin;
      dispose = bundle.dispose;
      root = await mkdtemp(`/tmp/${prefix}${process.pid}-`);
    },
    argv,
    shell: (args) =>
      [
        ...Object.entries(vars()).map(([k, v]) => `${k}=${shellQuote(v)}`),
        ...argv(args).map(shellQuote),
      ].join(' '),
    start,
    berth,
    berthIn(input, ...args) {
      const child = start(args, { stdin: 'pipe' });
      const done = finish(child);
      child.stdin?.end(input);
      return done;
    },
    ok,
    async loadBusybox() {
      const archive = (await buildFixtures()).images.busybox.dockerArchive?.path;
      if (!archive) throw new Error('the busybox fixture has no docker-archive');
      return { archive, output: await ok('load', '-i', archive) };
    },
    removeContainers,
    async dispose() {
      if (root) {
        await removeContainers();
        await unmountUnder(root);
        await rm(root, { recursive: true, force: true });
      }
      await dispose();
    },
  };
}
