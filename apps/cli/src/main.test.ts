import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// Runs the built binary as a user would. Builds it first when dist/berth.js is missing.
const appDir = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../dist/berth.js', import.meta.url));

beforeAll(() => {
  if (!existsSync(bin)) {
    execFileSync('pnpm', ['--filter', '@berth/cli', 'build'], { cwd: appDir, stdio: 'pipe' });
  }
}, 120_000);

function berth(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('dist/berth.js', () => {
  it('starts with a shebang and is executable', () => {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^berth version \S+, build \S+\n$/);
  });

  it('runs berth version with a git commit injected at build time', () => {
    const r = berth(['version', '--format', '{{.Client.GitCommit}} {{.Client.Os}}']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^([0-9a-f]{7}|unknown) linux\n$/);
  });

  it('exits 125 on an unknown flag, on stderr', () => {
    const r = berth(['version', '--foo']);
    expect(r.code).toBe(125);
    expect(r.out).toBe('');
    expect(r.err).toBe("unknown flag: --foo\nSee 'berth version --help'.\n");
  });

  it('ships an ASCII-only bundle, which dist/berth.js reads as latin1 (no UTF-8 decoding)', () => {
    const bundle = readFileSync(fileURLToPath(new URL('../dist/berth.cjs', import.meta.url)));
    const at = bundle.findIndex((b) => b > 0x7f);
    expect(at === -1 ? '' : bundle.subarray(Math.max(0, at - 40), at + 10).toString('utf8')).toBe('');
  });

  it('exits only after all of an output larger than a pipe holds is written', async () => {
    // process.exit ends the command: standard output through a pipe must not lose its tail,
    // even when the reader is slow to start
    const child = spawn(process.execPath, [bin, 'version', '--format', '{{range 30000}}0123456789{{end}}']);
    await new Promise((r) => setTimeout(r, 300));
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      out += c;
    });
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(out.length).toBe(300_001);
    expect(out.endsWith('0123456789\n')).toBe(true);
  });

  it('hands output a full non-blocking pipe refuses to the stream: all of it arrives, in order', async () => {
    // a preload that touches process.stdout makes its pipe non-blocking (libuv's pipe_open), as
    // a parent sharing the pipe might: berth's own write(2)s then meet EAGAIN once it is full
    const dir = mkdtempSync(join(tmpdir(), 'berth-nonblock-'));
    const preload = join(dir, 'nonblock.cjs');
    writeFileSync(preload, 'process.stdout;\n');
    try {
      const child = spawn(process.execPath, [
        '-r',
        preload,
        bin,
        'version',
        '--format',
        '{{range 100000}}0123456789{{end}}',
      ]);
      const code = new Promise((r) => child.on('close', r));
      // the reader starts late: the pipe fills first
      await new Promise((r) => setTimeout(r, 300));
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (c: string) => {
        out += c;
      });
      expect(await code).toBe(0);
      expect(out.length).toBe(1_000_001);
      expect(out).toBe(`${'0123456789'.repeat(100_000)}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes to /dev/null with write(2) itself: no SyncWriteStream, as for a pipe', () => {
    // `berth run -d … >/dev/null` in a script: Node would make a SyncWriteStream for it
    const dir = mkdtempSync(join(tmpdir(), 'berth-devnull-'));
    const preload = join(dir, 'modules.cjs');
    const log = join(dir, 'modules.log');
    writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(log)}, process.moduleLoadList.join('\\n')));\n`,
    );
    try {
      const r = spawnSync(process.execPath, ['-r', preload, bin, 'version'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const modules = readFileSync(log, 'utf8').split('\n');
      expect(modules).toContain('NativeModule vm');
      expect(modules).not.toContain('NativeModule internal/fs/sync_write_stream');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes no colour when not on a terminal, or when NO_COLOR is set', () => {
    const r = berth(['--help'], { NO_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('\x1b[');
    expect(berth(['--help']).out).not.toContain('\x1b[');
  });
});
