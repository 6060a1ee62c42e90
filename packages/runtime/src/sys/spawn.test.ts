import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spawnShim } from './spawn.js';

/** A process's state letter from /proc (Z: a zombie nobody reaped), or undefined once gone. */
function procState(pid: number): string | undefined {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

describe('spawnShim (posix_spawn from the addon)', () => {
  it('runs the file in its own session with signals at their defaults, lines both ways on fd 3, and reaps it', async () => {
    // what berth-shim relies on: fd 3 is the sync socket, a new session, SIGPIPE not ignored
    const script = [
      'echo "sid $(cut -d" " -f6 /proc/$$/stat) pid $$" >&3',
      'echo "ign $(sed -n "s/^SigIgn:[[:space:]]*//p" /proc/$$/status)" >&3',
      'echo "in $(readlink /proc/$$/fd/0) out $(readlink /proc/$$/fd/1)" >&3',
      'read -r reply <&3',
      'echo "got $reply" >&3',
      'echo "a word on stderr" >&2',
    ].join('; ');
    const chan = spawnShim('/bin/sh', ['-c', script], -1, -1);
    try {
      const [sid, pid] = (await chan.next())!.split(' ').filter((w) => /^\d+$/.test(w));
      expect(sid).toBe(pid);
      expect(Number(pid)).toBe(chan.pid);
      // nothing ignored but glibc's internal signals 32 and 33, which glibc's posix_spawn leaves
      // ignored (berth-shim resets them: runtime.int.test.ts)
      const ign = BigInt(`0x${(await chan.next())!.slice('ign '.length)}`);
      expect(ign & ~0x180000000n).toBe(0n);
      expect(await chan.next()).toBe('in /dev/null out /dev/null');
      chan.send('continue');
      expect(await chan.next()).toBe('got continue');
      expect(await chan.next()).toBeUndefined();
      expect(chan.stderr()).toBe('a word on stderr\n');
    } finally {
      chan.close();
    }
    expect(procState(chan.pid)).toBeUndefined();
  });

  it('gives the child the fds it is handed as stdin and stdout', async () => {
    const chan = spawnShim(
      '/bin/sh',
      ['-c', 'echo "$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1)" >&3'],
      0,
      1,
    );
    try {
      const line = await chan.next();
      expect(line).toBe(`${readlinkOf(0)} ${readlinkOf(1)}`);
    } finally {
      chan.close();
    }
  });

  it('an abort ends a pending read, and the child sees its sync socket shut', async () => {
    // the child waits for a line that never comes, and exits on EOF
    const chan = spawnShim('/bin/sh', ['-c', 'read -r x <&3'], -1, -1);
    const ac = new AbortController();
    const pending = chan.next(ac.signal);
    setTimeout(() => ac.abort(new Error('stop waiting')), 50);
    await expect(pending).rejects.toThrow('stop waiting');
    chan.close();
    expect(procState(chan.pid)).toBeUndefined();
  });

  it('names the file it cannot spawn', () => {
    const missing = '/nonexistent/berth-shim';
    expect(existsSync(missing)).toBe(false);
    expect(() => spawnShim(missing, [], -1, -1)).toThrow(
      /berth-shim \/nonexistent\/berth-shim: spawn: ENOENT: no such file or directory/,
    );
  });
});

function readlinkOf(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}
