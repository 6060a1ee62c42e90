/**
 * Interactive containers as a person uses them: `berth run -it`, `attach`, `start -ai` and
 * `exec -it` typed into a real terminal (tmux, on a private server), and `-i` with pipes, signal
 * forwarding and the exec flags through separate `berth` processes (the built bundle, see
 * testing/cli-harness.ts) over one private state root.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliDir, cliHarness, finish, until } from '../testing/cli-harness.js';

const cli = cliHarness('bt');
const { berth, berthIn, ok, start } = cli;

// ---- a terminal: tmux on its own server --------------------------------------------------------

const tmux = (...args: string[]) =>
  // a private server whose socket lives (and goes) with the state root
  execFileSync('tmux', ['-S', `${cli.root}/tmux.sock`, ...args], {
    encoding: 'utf8',
    cwd: cliDir,
    stdio: 'pipe',
  });

/** A shell line for tmux: berth, then the exit code and the terminal's settings after it. */
function shellLine(name: string, args: string[]): string {
  const stty = `${cli.root}/stty-${name}`;
  return `stty -g > ${stty}.before; ${cli.shell(args)}; echo "EXIT=$?"; stty -g > ${stty}.after; sleep 600`;
}

/** Opens a window (`name`) running berth with `args` in an 80x24 terminal. */
function terminal(name: string, args: string[]): void {
  tmux('new-session', '-d', '-s', name, '-x', '80', '-y', '24', 'sh', '-c', shellLine(name, args));
  tmux('set-option', '-t', `=${name}:`, 'window-size', 'manual');
}

// `=name:` is the session itself (a bare name may match a window named after its command)
const pane = (name: string) => tmux('capture-pane', '-p', '-t', `=${name}:`);
const keys = (name: string, ...k: string[]) => tmux('send-keys', '-t', `=${name}:`, ...k);

/** Waits until the pane matches (a deadline, not a timing assertion). */
async function waitPane(name: string, re: RegExp, ms = 30_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const text = pane(name);
    if (re.test(text)) return text;
    if (Date.now() > until) throw new Error(`pane never matched ${re}:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Types a line once the shell has shown its prompt (a line ending in `#`). */
async function typeLine(name: string, line: string): Promise<void> {
  await waitPane(name, /[#$] ?$/m);
  keys(name, line, 'Enter');
}

/** The terminal's settings were restored: stty -g after berth equals before it. */
async function sttyRestored(name: string): Promise<void> {
  const before = await readFile(`${cli.root}/stty-${name}.before`, 'utf8');
  const after = await readFile(`${cli.root}/stty-${name}.after`, 'utf8');
  expect(after).toBe(before);
}

async function state(name: string): Promise<string> {
  return (await ok('ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.State}}')).trim();
}

beforeAll(async () => {
  await cli.setup();
  expect((await cli.loadBusybox()).output).toContain('Loaded image: busybox:latest');
}, 180_000);

afterEach(async () => {
  try {
    tmux('kill-server');
  } catch {
    // no session was opened
  }
  await cli.removeContainers();
});

afterAll(() => cli.dispose());

describe('berth run -it, attach and exec -it in a real terminal (tmux)', () => {
  it('runs a shell: arithmetic, window size and its change, Ctrl-C, Ctrl-P Ctrl-Q, attach, exit 3', async () => {
    const name = `berth-t${process.pid}-sh`;
    terminal('run', ['run', '--rm', '-it', '--name', name, 'busybox', 'sh']);
    await typeLine('run', 'echo $((6*7))');
    await waitPane('run', /^42\s*$/m);
    await typeLine('run', 'clear; stty size; echo T=$TERM; tty');
    await waitPane('run', /^24 80\s*$[\s\S]*T=xterm[\s\S]*\/dev\/pts\/0/m);
    tmux('resize-window', '-t', '=run:', '-x', '100', '-y', '30');
    await new Promise((r) => setTimeout(r, 300));
    await typeLine('run', 'clear; stty size');
    await waitPane('run', /^30 100\s*$/m);
    // Ctrl-C is a character on the terminal: it interrupts sleep, not berth
    await typeLine('run', 'clear; sleep 1000');
    await new Promise((r) => setTimeout(r, 300));
    keys('run', 'C-c');
    await typeLine('run', 'echo rc=$?');
    await waitPane('run', /rc=130/);
    // detach: run ends with 0, the container keeps running, the terminal is as it was
    keys('run', 'C-p', 'C-q');
    const after = await waitPane('run', /EXIT=\d+/);
    expect(after).toMatch(/EXIT=0/);
    expect(after).not.toMatch(/escape|error/i);
    await sttyRestored('run');
    expect(await state(name)).toBe('running');
    // attach picks the shell up again (its prompt redrawn); exit 3 ends it, --rm removes it
    terminal('attach', ['attach', name]);
    await typeLine('attach', 'echo back in; exit 3');
    await waitPane('attach', /back in[\s\S]*EXIT=3/);
    await sttyRestored('attach');
    await until(async () => (await state(name)) === '', 'the --rm container to go');
  });

  it('takes custom detach keys; attach detaching says so and exits 1, as docker', async () => {
    const name = `berth-t${process.pid}-keys`;
    await ok('run', '-dit', '--name', name, 'busybox', 'sh');
    terminal('a', ['attach', '--detach-keys', 'ctrl-x,y', name]);
    // the default keys pass through to the shell now; a broken sequence reaches it too
    await typeLine('a', 'echo one');
    await waitPane('a', /^one\s*$/m);
    keys('a', 'C-x', 'y');
    const text = await waitPane('a', /EXIT=\d+/);
    expect(text).toMatch(/read escape sequence[\s\S]*EXIT=1/);
    await sttyRestored('a');
    expect(await state(name)).toBe('running');
  });

  it('starts a created -it container with start -ai, and runs exec -it beside it', async () => {
    const name = `berth-t${process.pid}-start`;
    await ok('create', '-it', '--name', name, 'busybox', 'sh');
    terminal('s', ['start', '-ai', name]);
    await typeLine('s', 'echo started; touch /tmp/from-init');
    await waitPane('s', /^started\s*$/m);
    terminal('e', ['exec', '-it', name, 'sh']);
    await typeLine('e', 'tty; stty size; ls /tmp; exit 4');
    const text = await waitPane('e', /EXIT=\d+/);
    expect(text).toMatch(/\/dev\/pts\/1[\s\S]*24 80[\s\S]*from-init[\s\S]*EXIT=4/);
    await sttyRestored('e');
    await typeLine('s', 'exit 5');
    await waitPane('s', /EXIT=5/);
    expect(await state(name)).toBe('exited');
  });
});

describe('berth run -i, -a and --sig-proxy without a terminal', () => {
  it('pipes stdin through and closes it at EOF; -t needs a terminal only with -i', async () => {
    expect(await berthIn('hi\n', 'run', '-i', '--rm', 'busybox', 'cat')).toMatchObject({
      code: 0,
      stdout: 'hi\n',
    });
    // stdin reaches a -i container's process in order, with stderr kept apart
    const r = await berthIn('a\nb\n', 'run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo e >&2; exit 6');
    expect(r).toMatchObject({ code: 6, stdout: 'a\nb\n', stderr: 'e\n' });
    // -a stdout only: stderr is not shown
    const a = await berth('run', '--rm', '-a', 'stdout', 'busybox', 'sh', '-c', 'echo o; echo e >&2');
    expect(a).toMatchObject({ code: 0, stdout: 'o\n', stderr: '' });
    const notTty = await berthIn('', 'run', '--rm', '-it', 'busybox', 'true');
    expect(notTty).toMatchObject({ code: 1, stderr: 'the input device is not a TTY\n' });
    // nothing was created
    expect((await ok('ps', '-aq')).trim()).toBe('');
    // -t alone: the process has a terminal, its output comes through it (CRLF)
    const t = await berth('run', '--rm', '-t', 'busybox', 'sh', '-c', 'tty; echo x');
    expect(t).toMatchObject({ code: 0, stdout: '/dev/pts/0\r\nx\r\n' });
    // start -a attaches before the process runs: its output from the first byte, streams apart
    const created = (await ok('create', 'busybox', 'sh', '-c', 'echo a; echo b >&2; exit 3')).trim();
    expect(await berth('start', '-a', created)).toMatchObject({ code: 3, stdout: 'a\n', stderr: 'b\n' });
    expect((await berth('run', '-d', '-a', 'stdout', 'busybox', 'true')).stderr).toContain(
      'Conflicting options: -a and -d',
    );
  });

  it('forwards SIGINT to the process without -t (--sig-proxy), and not with --sig-proxy=false', async () => {
    const script = 'trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.1; done';
    const child = start(['run', '-i', '--rm', 'busybox', 'sh', '-c', script], { stdin: 'pipe' });
    const done = finish(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until(() => out.includes('ready'), 'the trap to be set');
    child.kill('SIGINT');
    expect(await done).toMatchObject({ code: 5, stdout: 'ready\ngot INT\n' });
    const name = `berth-t${process.pid}-noproxy`;
    const c2 = start(['run', '--sig-proxy=false', '--name', name, 'busybox', 'sh', '-c', script]);
    const d2 = finish(c2);
    let out2 = '';
    c2.stdout?.on('data', (d: Buffer) => {
      out2 += d.toString();
    });
    await until(() => out2.includes('ready'), 'the trap to be set');
    c2.kill('SIGINT');
    expect((await d2).code).not.toBe(5);
    expect(await state(name)).toBe('running');
  });
});

describe('berth exec', () => {
  it('joins the container: pid namespace, filesystem, -u, -e, --env-file, -w, -i, -d and exit codes', async () => {
    const name = `berth-t${process.pid}-exec`;
    await ok('run', '-d', '--name', name, 'busybox', 'sh', '-c', 'echo init > /tmp/init; exec sleep 1000');
    await until(async () => (await berth('exec', name, 'test', '-f', '/tmp/init')).code === 0, 'init');
    // the same pid namespace (its pid 1 is the container's sleep) and the same files
    expect(await ok('exec', name, 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; cat /tmp/init')).toBe(
      'sleep 1000 init\n',
    );
    expect(await ok('exec', '-u', '1000:1000', '-w', '/tmp', name, 'sh', '-c', 'id -u; id -g; pwd')).toBe(
      '1000\n1000\n/tmp\n',
    );
    expect(await ok('exec', '-u', 'nobody', name, 'id', '-un')).toBe('nobody\n');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(`${cli.root}/env`, '# comment\nFROM_FILE=f\n'),
    );
    expect(
      await ok('exec', '-e', 'A=1', '--env-file', `${cli.root}/env`, name, 'sh', '-c', 'echo $A $FROM_FILE'),
    ).toBe('1 f\n');
    expect(await berthIn('in\n', 'exec', '-i', name, 'cat')).toMatchObject({ code: 0, stdout: 'in\n' });
    // stdout and stderr stay apart; the exit code is the process's
    expect(await berth('exec', name, 'sh', '-c', 'echo o; echo e >&2; exit 9')).toMatchObject({
      code: 9,
      stdout: 'o\n',
      stderr: 'e\n',
    });
    const missing = await berth('exec', name, 'nosuch');
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('exec: "nosuch": executable file not found in $PATH');
    expect((await berth('exec', name, '/etc/passwd')).code).toBe(126);
    // -d returns at once; the process runs on without the CLI
    expect(await berth('exec', '-d', name, 'sh', '-c', 'sleep 0.5; echo later > /tmp/d')).toMatchObject({
      code: 0,
      stdout: '',
    });
    await until(async () => (await berth('exec', name, 'cat', '/tmp/d')).stdout === 'later\n', 'exec -d');
    // --privileged: every capability the engine holds, no seccomp filter
    const capEff = (t: string) => BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(t)?.[1] ?? '0'}`);
    const plain = capEff(await ok('exec', name, 'cat', '/proc/self/status'));
    const priv = capEff(await ok('exec', '--privileged', name, 'cat', '/proc/self/status'));
    expect(plain).toBe(0xa80425fbn);
    expect(priv > plain).toBe(true);
    expect(await berthIn('', 'exec', '-it', name, 'true')).toMatchObject({
      code: 1,
      stderr: 'the input device is not a TTY\n',
    });
    // docker's client exits 1 for a missing or stopped container
    const gone = await berth('exec', 'nosuch-container', 'true');
    expect(gone).toMatchObject({ code: 1, stderr: 'Error: No such container: nosuch-container\n' });
    await ok('stop', '-t', '0', name);
    const stopped = await berth('exec', name, 'true');
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/^Error: Container [0-9a-f]{64} is not running\n$/);
  });
});
