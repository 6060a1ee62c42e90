import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Spec } from '@berth/oci';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from './runtime.js';
import { dockerLikeSpec, writeBundle } from './testing/busybox-bundle.js';
import { buildShim } from './testing/shim-build.js';

let shim: string;
let tmp: string;
let root: string;
let rt: Runtime;
const session = `berth-t${process.pid}-attach`;
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const client = fileURLToPath(new URL('./testing/attach-client.ts', import.meta.url));

beforeAll(() => {
  shim = buildShim();
});
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
  root = join(tmp, 'state');
  rt = createRuntime({ root, shim });
});
afterEach(async () => {
  try {
    execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
  } catch {}
  for (const id of ['c', 'c2']) await rt.delete(id, { force: true }).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

function bundle(args: string[], patch?: (s: Spec) => void): string {
  return writeBundle(join(tmp, `b-${Math.random().toString(36).slice(2)}`), dockerLikeSpec(args, patch));
}

function ttySpec(s: Spec): void {
  s.process!.terminal = true;
  s.process!.consoleSize = { height: 24, width: 80 };
  s.process!.env = [...(s.process!.env ?? []), 'TERM=xterm'];
}

const pane = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
const keys = (...k: string[]) => execFileSync('tmux', ['send-keys', '-t', session, ...k]);

/** Waits until the pane matches (a deadline, not a timing assertion). */
async function waitPane(re: RegExp, ms = 20000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const text = pane();
    if (re.test(text)) return text;
    if (Date.now() > until) throw new Error(`pane never matched ${re}:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('terminal and attach through a real terminal (tmux)', () => {
  it('runs sh on a pty: TERM, tty, /dev/console, stty size and its change, Ctrl-C, detach keys', async () => {
    await rt.create('c', bundle(['sh'], ttySpec));
    await rt.start('c');
    execFileSync('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '80',
      '-y',
      '24',
      join(repo, 'node_modules/.bin/tsx'),
      '--conditions=@berth/source',
      client,
      root,
      shim,
      'c',
    ]);
    execFileSync('tmux', ['set-option', '-t', session, 'window-size', 'manual']);
    // the prompt appears after the first input
    await new Promise((r) => setTimeout(r, 500));
    keys('echo T=$TERM', 'Enter');
    await waitPane(/T=xterm/);
    keys('tty; [ -c /dev/console ] && echo console-is-a-tty', 'Enter');
    await waitPane(/\/dev\/pts\/0[\s\S]*console-is-a-tty/);
    keys('clear; stty size', 'Enter');
    await waitPane(/^24 80$/m);
    execFileSync('tmux', ['resize-window', '-t', session, '-x', '100', '-y', '30']);
    await new Promise((r) => setTimeout(r, 300));
    keys('clear; stty size', 'Enter');
    await waitPane(/^30 100$/m);
    keys('clear; sleep 1000', 'Enter');
    await new Promise((r) => setTimeout(r, 300));
    keys('C-c');
    keys('echo rc=$?', 'Enter');
    await waitPane(/rc=130/);
    keys('C-p', 'C-q');
    await waitPane(/\[detached\]/);
    expect((await rt.state('c')).status).toBe('running');
    // detached, the terminal's output still reached the json-file log
    const log = readFileSync((await rt.state('c')).logPath!, 'utf8');
    expect(log).toContain('T=xterm');
    expect(log).toContain('"stream":"stdout"');
    // a second attach picks the shell up again; exit ends it
    const out = new PassThrough();
    let seen = '';
    out.on('data', (c: Buffer) => {
      seen += c.toString();
    });
    const stdin = new PassThrough();
    const h = await rt.attach('c', { stdin, stdout: out, tty: true });
    stdin.write('echo again; exit 3\r');
    expect(await h.done).toBe('exited');
    expect(seen).toContain('again');
    expect((await rt.wait('c')).exitCode).toBe(3);
  }, 60000);
});

describe('attach without a terminal', () => {
  it('feeds stdin to an open-stdin container and splits stdout from stderr', async () => {
    await rt.create('c', bundle(['sh', '-c', 'read x; echo "out $x"; echo "err $x" >&2; cat']), {
      openStdin: true,
    });
    await rt.start('c');
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const h = await rt.attach('c', { stdin, stdout, stderr, tty: false, closeStdin: true });
    stdin.write('hello\n');
    stdin.end('rest\n');
    expect(await h.done).toBe('exited');
    expect(out).toBe('out hello\nrest\n');
    expect(err).toBe('err hello\n');
    expect((await rt.wait('c')).exitCode).toBe(0);
  });

  it('attached before start (docker run without -d) sees the output from the first byte', async () => {
    await rt.create('c', bundle(['sh', '-c', 'echo first; echo second >&2; exit 4']));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const h = await rt.attach('c', { stdout, stderr, tty: false });
    await rt.start('c');
    expect(await h.done).toBe('exited');
    expect(out).toBe('first\n');
    expect(err).toBe('second\n');
    expect((await rt.wait('c')).exitCode).toBe(4);
  });

  it('detaches on the keys without passing them on, and the container keeps running', async () => {
    await rt.create('c', bundle(['cat']), { openStdin: true });
    await rt.start('c');
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const h = await rt.attach('c', { stdin, stdout, tty: false, detachKeys: 'ctrl-x,y' });
    stdin.write('a\x18b\n'); // a broken sequence passes through
    await new Promise((r) => setTimeout(r, 200));
    stdin.write('\x18y');
    expect(await h.done).toBe('detached');
    expect(out).toBe('a\x18b\n');
    expect((await rt.state('c')).status).toBe('running');
  });

  it('refuses to resize a container without a terminal', async () => {
    await rt.create('c', bundle(['sleep', '100']));
    await rt.start('c');
    await expect(rt.resize('c', { rows: 10, cols: 10 })).rejects.toThrow(/has no terminal/);
  });
});
