import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError, type Spec } from '@berth/oci';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeLaunch, launchFromSpec } from './launch-spec.js';
import { createRuntime, type Runtime } from './runtime.js';
import { parseExitRecord, parseShimMessage } from './shim-protocol.js';
import { buildSpec } from './spec.js';
import { loadAddon } from './sys/addon.js';
import { dockerLikeSpec, makeBusyboxRootfs, writeBundle } from './testing/busybox-bundle.js';
import { buildShim } from './testing/shim-build.js';

let shim: string;
let tmp: string;
let rt: Runtime;
let n = 0;

beforeAll(() => {
  shim = buildShim();
});
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
  rt = createRuntime({ root: join(tmp, 'state'), shim });
});
afterEach(async () => {
  // kill anything a failed test left running, then remove the state and bundles
  for (const id of ['c', 'c2']) await rt.delete(id, { force: true }).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

function bundle(args: string[], patch?: (s: Spec) => void): string {
  return writeBundle(join(tmp, `bundle${n++}`), dockerLikeSpec(args, patch));
}

/** Runs args to completion; returns the exit record and the stdout/stderr lines from the log. */
async function run(args: string[], patch?: (s: Spec) => void) {
  await rt.create('c', bundle(args, patch));
  await rt.start('c');
  const exit = await rt.wait('c');
  const state = await rt.state('c');
  const entries = readFileSync(state.logPath!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { log: string; stream: string; time: string });
  const out = entries
    .filter((e) => e.stream === 'stdout')
    .map((e) => e.log)
    .join('');
  const err = entries
    .filter((e) => e.stream === 'stderr')
    .map((e) => e.log)
    .join('');
  await rt.delete('c');
  return { exit, out, err, entries };
}

describe('berth-shim through createRuntime (busybox rootfs, real namespaces)', () => {
  it('writes stdout and stderr to the json-file log in docker format', async () => {
    const { exit, entries } = await run(['sh', '-c', 'echo hi; echo oops >&2; printf "<&>"']);
    expect(exit.exitCode).toBe(0);
    expect(entries).toHaveLength(3);
    const hi = entries.find((e) => e.log === 'hi\n')!;
    expect(hi.stream).toBe('stdout');
    expect(hi.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    expect(entries.find((e) => e.stream === 'stderr')!.log).toBe('oops\n');
    expect(entries.find((e) => e.log === '<&>')).toBeDefined();
  });

  it('escapes like docker: <, >, & as \\u003c \\u003e \\u0026', async () => {
    await rt.create('c', bundle(['sh', '-c', 'printf "<&>\\n"']));
    await rt.start('c');
    await rt.wait('c');
    const raw = readFileSync((await rt.state('c')).logPath!, 'utf8');
    expect(raw).toMatch(/^\{"log":"\\u003c\\u0026\\u003e\\n","stream":"stdout","time":"[^"]+"\}\n$/);
  });

  it('reports exit codes 0 and 1', async () => {
    expect((await run(['true'])).exit.exitCode).toBe(0);
    expect((await run(['sh', '-c', 'exit 1'])).exit.exitCode).toBe(1);
  });

  it('starts the process with no signal ignored or blocked', async () => {
    // node launches berth-shim with posix_spawn, which leaves glibc's signals 32 and 33 ignored
    // (and an ignored signal survives exec): the shim resets them
    const { exit, out } = await run(['grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status']);
    expect(exit.exitCode).toBe(0);
    expect(out).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  it('fails with LAUNCH_FAILED (125) for a missing rootfs and leaves nothing behind', async () => {
    const dir = writeBundle(join(tmp, 'norootfs'), dockerLikeSpec(['true']), { rootfs: false });
    await expect(rt.create('c', dir)).rejects.toSatisfy((e) => isBerthError(e, 'LAUNCH_FAILED'));
    expect(existsSync(join(tmp, 'state', 'c'))).toBe(false);
  });

  it('fails with EXEC_PERMISSION_DENIED (126) for a file that is not executable', async () => {
    const err = await rt.create('c', bundle(['/etc/plain-file'])).catch((e: unknown) => e);
    expect((err as Error).message).toContain('exec: "/etc/plain-file": permission denied');
    expect(isBerthError(err, 'EXEC_PERMISSION_DENIED')).toBe(true);
  });

  it("fails with EXEC_NOT_FOUND (127) and docker's message for a missing executable", async () => {
    const err = await rt.create('c', bundle(['nosuchcmd'])).catch((e: unknown) => e);
    expect((err as Error).message).toContain('exec: "nosuchcmd": executable file not found in $PATH');
    expect(isBerthError(err, 'EXEC_NOT_FOUND')).toBe(true);
  });

  it('records 137 after SIGKILL', async () => {
    await rt.create('c', bundle(['sleep', '1000']));
    await rt.start('c');
    expect((await rt.state('c')).status).toBe('running');
    await rt.kill('c', 'SIGKILL');
    const exit = await rt.wait('c');
    expect(exit).toMatchObject({ exitCode: 137, signal: 9 });
    expect((await rt.state('c')).status).toBe('stopped');
  });

  it('ends a live container for delete with one `delete 9` request (137 recorded); refuses an unknown request at the control step', async () => {
    await rt.create('c', bundle(['sleep', '1000']));
    await rt.start('c');
    const st = await rt.state('c');
    const sock = join(st.dir, 'control.sock');
    // what a shim of an older berth answers to `delete`, on which delete falls back
    const unknown = await loadAddon().controlAsync(sock, 'frobnicate 9\n');
    expect(parseShimMessage(String(unknown))).toMatchObject({ type: 'error', step: 'control' });
    expect(await loadAddon().controlAsync(sock, 'delete 9\n')).toBe('exited 137 9');
    expect(parseExitRecord(readFileSync(join(st.dir, 'exit'), 'utf8'), 'exit')).toMatchObject({
      exitCode: 137,
      signal: 9,
    });
    await rt.delete('c');
    expect(existsSync(st.dir)).toBe(false);
    // and through delete({ force }): the process (reaped by its shim) and the directory gone
    await rt.create('c2', bundle(['sleep', '1000']));
    await rt.start('c2');
    const st2 = await rt.state('c2');
    await rt.delete('c2', { force: true });
    expect(existsSync(st2.dir)).toBe(false);
    expect(() => process.kill(st2.pid, 0)).toThrow();
  });

  it('records 143 after SIGTERM to a process that is not a pid-namespace init (--pid host)', async () => {
    await rt.create(
      'c',
      bundle(['sleep', '1000'], (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'pid');
      }),
    );
    await rt.start('c');
    await rt.kill('c', 'SIGTERM');
    expect(await rt.wait('c')).toMatchObject({ exitCode: 143, signal: 15 });
  });

  it('relays the signals the shim receives to the container', async () => {
    await rt.create(
      'c',
      bundle(['sh', '-c', 'trap "echo got-usr1; exit 7" USR1; while :; do sleep 0.05; done']),
    );
    const st = await rt.start('c');
    // the trap is installed before the loop starts; wait until sh runs the loop (a sleep child exists)
    await until(() => readFileSync(`/proc/${st.pid}/task/${st.pid}/children`, 'utf8').trim() !== '');
    process.kill(st.shimPid, 'SIGUSR1');
    expect((await rt.wait('c')).exitCode).toBe(7);
  });

  it('sets hostname, uid/gid/groups, env and cwd', async () => {
    const { exit, out } = await run(['sh', '-c', 'hostname; id; echo "$GREETING"; pwd'], (s) => {
      s.hostname = 'box-1';
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [2000] };
      s.process!.env!.push('GREETING=hello world');
      s.process!.cwd = '/home/app';
    });
    expect(exit.exitCode).toBe(0);
    // setgroups(additionalGids) exactly: busybox id lists getgroups(2), as in a docker container
    expect(out).toBe('box-1\nuid=1000(app) gid=1000(app) groups=2000(extra)\nhello world\n/home/app\n');
  });

  it('masks /proc paths and makes /proc/sys read-only', async () => {
    const { out } = await run([
      'sh',
      '-c',
      'cat /proc/kcore >/dev/null 2>&1 && echo kcore-readable || echo kcore-denied; ' +
        'wc -c < /proc/timer_list; ' +
        'echo x > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-ro',
    ]);
    expect(out).toBe('kcore-denied\n0\nsys-ro\n');
  });

  it("has docker's default capabilities: CapEff 00000000a80425fb", async () => {
    const { out } = await run(['sh', '-c', 'grep -E "^Cap(Eff|Prm|Bnd|Inh|Amb)" /proc/self/status']);
    expect(out).toContain('CapEff:\t00000000a80425fb');
    expect(out).toContain('CapPrm:\t00000000a80425fb');
    expect(out).toContain('CapBnd:\t00000000a80425fb');
    expect(out).toContain('CapInh:\t0000000000000000');
  });

  it('is pid 1 in its own pid namespace, with /dev set up', async () => {
    const { out } = await run([
      'sh',
      '-c',
      'echo $$; ls /dev | tr "\\n" " "; echo; readlink /dev/ptmx; ls /sys/fs/cgroup | head -1',
    ]);
    const [pid, dev, ptmx] = out.split('\n');
    expect(pid).toBe('1');
    for (const d of [
      'null',
      'zero',
      'full',
      'random',
      'urandom',
      'tty',
      'fd',
      'stdin',
      'stdout',
      'stderr',
      'pts',
      'shm',
      'mqueue',
    ])
      expect(dev!.split(' ')).toContain(d);
    expect(ptmx).toBe('pts/ptmx');
  });

  it('refuses to raise a hard rlimit above its own, naming the limit', async () => {
    const hard = Number(readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)![1]);
    const err = await rt
      .create(
        'c',
        bundle(['true'], (s) => {
          s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: hard + 10000, hard: hard + 10000 }];
        }),
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain('RLIMIT_NOFILE');
    expect(isBerthError(err, 'LAUNCH_FAILED')).toBe(true);
    expect((err as Error).message).toContain('CAP_SYS_RESOURCE');
  });

  it('applies rlimits within the hard limit', async () => {
    const { out } = await run(['sh', '-c', 'ulimit -n; ulimit -Hn'], (s) => {
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }];
    });
    expect(out).toBe('1024\n2048\n');
  });

  it('rotates the json-file log by max-size and max-file', async () => {
    await rt.create(
      'c',
      bundle(['sh', '-c', 'i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done']),
      {
        log: { maxSize: 2000, maxFile: 3 },
      },
    );
    await rt.start('c');
    await rt.wait('c');
    const log = (await rt.state('c')).logPath!;
    expect(existsSync(`${log}.1`)).toBe(true);
    expect(existsSync(`${log}.2`)).toBe(true);
    expect(existsSync(`${log}.3`)).toBe(false);
    const last = readFileSync(log, 'utf8').trim().split('\n').pop()!;
    expect(JSON.parse(last).log).toBe('line-299\n');
  });

  it('brings lo up in a new network namespace with loopback, and leaves it down without', async () => {
    const show = ['sh', '-c', 'ip -o link show lo | grep -c LOWER_UP; exit 0'];
    await rt.create('c', bundle(show), { loopback: true });
    await rt.start('c');
    await rt.wait('c');
    const up = readFileSync((await rt.state('c')).logPath!, 'utf8');
    await rt.delete('c');
    expect(JSON.parse(up.split('\n')[0]!).log).toBe('1\n');
    expect((await run(show)).out).toBe('0\n');
  });

  it('runs onCreated with the pid before the process starts, and aborts when it throws', async () => {
    let seen = 0;
    const st = await rt.create('c', bundle(['true']), {
      onCreated: ({ pid }) => {
        seen = pid;
      },
    });
    expect(seen).toBe(st.pid);
    expect(st.status).toBe('created');
    await rt.delete('c', { force: true });
    const err = await rt
      .create('c2', bundle(['true']), {
        onCreated: () => {
          throw new Error('no cgroup for you');
        },
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('no cgroup for you');
    expect(existsSync(join(tmp, 'state', 'c2'))).toBe(false);
  });

  it('keeps the container running when the parent that launched the shim is killed, and records its exit', async () => {
    const dir = bundle(['sh', '-c', 'read x < /tmp/go-fifo; exit 42'], (s) => {
      s.process!.args = ['sh', '-c', 'mkfifo /tmp/go-fifo; read x < /tmp/go-fifo; exit 42'];
    });
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
    const exitFile = join(tmp, 'exit');
    const launch = join(tmp, 'launch');
    writeFileSync(
      launch,
      encodeLaunch(
        launchFromSpec(spec, { id: 'orphan', bundleDir: dir, stdio: 'null', exitFile, syncFd: 3 }),
      ),
    );
    // a plain node parent speaking the sync protocol, not daemonised: the shim is its child
    const parentScript = `
      const { spawn } = require('node:child_process');
      const c = spawn(process.argv[1], [process.argv[2]], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
      let buf = '';
      c.stdio[3].on('data', (d) => {
        buf += d;
        if (buf.includes('created ')) { c.stdio[3].write('continue\\n'); buf = buf.replace('created ', 'sent '); }
        if (buf.includes('started ')) { process.stdout.write(buf.match(/started (\\d+)/)[1] + '\\n'); }
      });
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['-e', parentScript, shim, launch], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = Number(
      await new Promise<string>((res) => parent.stdout.once('data', (d: Buffer) => res(d.toString().trim()))),
    );
    parent.kill('SIGKILL');
    await new Promise((r) => parent.once('exit', r));
    // the container still runs, and its shim still supervises it
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/State:\s+[RSD]/);
    expect(existsSync(exitFile)).toBe(false);
    writeFileSync(join(dir, 'rootfs/tmp/go-fifo'), 'go\n');
    await until(() => existsSync(exitFile));
    expect(parseExitRecord(readFileSync(exitFile, 'utf8'))).toMatchObject({ exitCode: 42, signal: 0 });
  });

  it('loads a seccomp program (classic BPF) and no_new_privs', async () => {
    // two instructions: ld [0] (the syscall number); ret ERRNO(EPERM) for mkdir/mkdirat, else
    // allow. x86_64 numbers (83, 258); other arches only check that the filter is installed.
    const ins = (code: number, jt: number, jf: number, k: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt16LE(code, 0);
      b.writeUInt8(jt, 2);
      b.writeUInt8(jf, 3);
      b.writeUInt32LE(k >>> 0, 4);
      return b;
    };
    const prog = Buffer.concat([
      ins(0x20, 0, 0, 0), // BPF_LD|BPF_W|BPF_ABS, seccomp_data.nr
      ins(0x15, 2, 0, 83), // BPF_JMP|BPF_JEQ|BPF_K mkdir
      ins(0x15, 1, 0, 258), // mkdirat
      ins(0x06, 0, 0, 0x7fff0000), // SECCOMP_RET_ALLOW
      ins(0x06, 0, 0, 0x00050001), // SECCOMP_RET_ERRNO | EPERM
    ]);
    await rt.create(
      'c',
      bundle(
        ['sh', '-c', 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/d 2>&1 || true'],
        (s) => {
          s.process!.noNewPrivileges = true;
        },
      ),
      { seccomp: prog },
    );
    await rt.start('c');
    expect((await rt.wait('c')).exitCode).toBe(0);
    const out = readFileSync((await rt.state('c')).logPath!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { log: string }).log)
      .join('');
    expect(out).toContain('NoNewPrivs:\t1');
    expect(out).toContain('Seccomp:\t2');
    if (process.arch === 'x64')
      expect(out).toMatch(/mkdir: can't create directory '\/tmp\/d': Operation not permitted/);
  });

  it('keeps the idle shim under 2 MB RSS', async () => {
    await rt.create('c', bundle(['sleep', '1000']));
    const st = await rt.start('c');
    const rss = Number(readFileSync(`/proc/${st.shimPid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)![1]);
    expect(rss).toBeLessThan(2048);
  });
});

describe('run(): create and start in one launch', () => {
  /** The berth-shim processes still running for this test's state root. */
  const shimsOf = (id: string) =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      })
      .filter((cmd) => cmd.includes('berth-shim') && cmd.includes(join(tmp, 'state', id)));

  it('returns with the process running, in one exchange with berth-shim', async () => {
    const st = await rt.run('c', bundle(['sh', '-c', 'echo up; exec sleep 1000']));
    expect(st.status).toBe('running');
    // the pid is the container's own process, already past its exec
    await until(() => readFileSync(`/proc/${st.pid}/cmdline`, 'utf8') === 'sleep\x001000\x00');
    expect((await rt.state('c')).status).toBe('running');
    // no `continue` and no `start` to wait for
    const launch = readFileSync(join(st.dir, 'launch'), 'utf8');
    expect(launch).toContain('\nstart=now\n');
    expect(launch).toContain('\nsync.continue=0\n');
    await expect(rt.start('c')).rejects.toSatisfy((e) => isBerthError(e, 'CONTAINER_NOT_RUNNING'));
    await rt.kill('c', 'SIGKILL');
    expect(await rt.wait('c')).toMatchObject({ exitCode: 137, signal: 9 });
    expect(JSON.parse(readFileSync(st.logPath!, 'utf8').split('\n')[0]!).log).toBe('up\n');
  });

  it('fails with EXEC_NOT_FOUND (127) or EXEC_PERMISSION_DENIED (126) and leaves nothing behind', async () => {
    const missing = await rt.run('c', bundle(['nosuchcmd'])).catch((e: unknown) => e);
    expect(isBerthError(missing, 'EXEC_NOT_FOUND')).toBe(true);
    expect((missing as Error).message).toContain('exec: "nosuchcmd": executable file not found in $PATH');
    const denied = await rt.run('c2', bundle(['/etc/plain-file'])).catch((e: unknown) => e);
    expect(isBerthError(denied, 'EXEC_PERMISSION_DENIED')).toBe(true);
    expect((denied as Error).message).toContain('exec: "/etc/plain-file": permission denied');
    for (const id of ['c', 'c2']) {
      expect(existsSync(join(tmp, 'state', id))).toBe(false);
      expect(shimsOf(id)).toEqual([]);
      await expect(rt.state(id)).rejects.toSatisfy((e) => isBerthError(e, 'CONTAINER_NOT_FOUND'));
    }
  });

  it('still runs onCreated before the process, and a throw there aborts the launch', async () => {
    let seen = 0;
    let before = '';
    const st = await rt.run('c', bundle(['sleep', '1000']), {
      onCreated: ({ pid }) => {
        seen = pid;
        before = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      },
    });
    expect(seen).toBe(st.pid);
    expect(before).toContain('berth-shim'); // not yet the container's process
    expect(st.status).toBe('running');
    expect(readFileSync(join(st.dir, 'launch'), 'utf8')).not.toContain('sync.continue');
    const err = await rt
      .run('c2', bundle(['true']), {
        onCreated: () => {
          throw new Error('no network for you');
        },
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('no network for you');
    expect(existsSync(join(tmp, 'state', 'c2'))).toBe(false);
    expect(shimsOf('c2')).toEqual([]);
  });

  it('with sync.continue=0, a parent already gone when the shim sends created still aborts the launch', async () => {
    for (const [how, mode] of [
      ['EOF', 'r+'], // /dev/null read-write: the shim's look at fd 3 reads EOF
      ['EPIPE', 'r'], // read-only: the write of `created` fails, as to a closed socket
    ] as const) {
      const dir = bundle(['touch', '/ran']);
      const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
      const exitFile = join(tmp, `exit-${how}`);
      const launch = join(tmp, `launch-${how}`);
      writeFileSync(
        launch,
        encodeLaunch(
          launchFromSpec(spec, {
            id: `gone-${how}`,
            bundleDir: dir,
            stdio: 'null',
            exitFile,
            start: 'now',
            syncFd: 3,
            syncContinue: false,
          }),
        ),
      );
      const fd = openSync('/dev/null', mode);
      try {
        const r = spawnSync(shim, [launch], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
        expect(r.status).toBe(125);
      } finally {
        closeSync(fd);
      }
      const exit = parseExitRecord(readFileSync(exitFile, 'utf8'));
      expect(exit).toMatchObject({ exitCode: 125, error: { step: 'sync' } });
      expect(exit.error?.message).toContain('went away');
      expect(existsSync(join(dir, 'rootfs', 'ran'))).toBe(false);
    }
  });

  it('create() without onCreated skips the wait for continue and still waits for start()', async () => {
    const st = await rt.create('c', bundle(['sh', '-c', 'echo started']));
    expect(st.status).toBe('created');
    expect(readFileSync(join(st.dir, 'launch'), 'utf8')).toContain('\nsync.continue=0\n');
    expect(readFileSync(`/proc/${st.pid}/cmdline`, 'utf8')).toContain('berth-shim');
    expect(existsSync(st.logPath!) ? readFileSync(st.logPath!, 'utf8') : '').toBe('');
    expect((await rt.start('c')).status).toBe('running');
    expect((await rt.wait('c')).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(st.logPath!, 'utf8').split('\n')[0]!).log).toBe('started\n');
  });
});

describe('buildSpec through the shim (what a container sees)', () => {
  it("matches docker's defaults from inside: caps, user and groups, env, shm, sysctl, read-only rootfs", async () => {
    const dir = join(tmp, 'built');
    const rootfs = makeBusyboxRootfs(dir);
    const spec = buildSpec(
      {
        Cmd: [
          'sh',
          '-c',
          'grep CapEff /proc/self/status; id; echo "$HOME $HOSTNAME"; df -k /dev/shm | tail -1; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; touch /x 2>&1 || echo ro',
        ],
        User: 'app',
      },
      {
        hostname: 'abcdef123456',
        passwd: readFileSync(join(rootfs, 'etc/passwd'), 'utf8'),
        group: readFileSync(join(rootfs, 'etc/group'), 'utf8'),
        shmSize: 8 * 1024 * 1024,
        sysctl: { 'net.ipv4.ip_unprivileged_port_start': '80' },
        readOnly: true,
      },
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    await rt.create('c', dir);
    await rt.start('c');
    expect((await rt.wait('c')).exitCode).toBe(0);
    const lines = readFileSync((await rt.state('c')).logPath!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { log: string }).log.trimEnd());
    expect(lines[0]).toBe('CapEff:\t0000000000000000'); // uid 1000: docker drops the effective set too
    expect(lines[1]).toBe('uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)');
    expect(lines[2]).toBe('/home/app abcdef123456');
    expect(lines[3]).toMatch(/^shm\s+8192\s/);
    expect(lines[4]).toBe('80');
    expect(lines[5]).toMatch(/Read-only file system/);
  });
});

/** Polls cond until it holds (no timing assertion: the test timeout is the only bound). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}
