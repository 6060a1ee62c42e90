/**
 * berth-shim's launch from the addon (`spawnDetached` in native/sys.c): posix_spawn (vfork and
 * exec, no copy of node's page tables) in a new session, with the shim's stderr on a pipe and
 * its sync channel on fd 3. Node's `child_process.spawn` forks the whole ~60 MB process and
 * wraps each pipe in a `net.Socket` stream: `node:child_process`, `node:net` and their streams
 * loaded and run on every `berth run` (~7 ms of CPU measured per launch). Here the sync lines are
 * read with `fs.read` on the libuv thread pool and answered with `fs.writeSync`; an abort shuts
 * the socket down (the pending read ends, the shim reads EOF and gives up, as it does when its
 * parent dies).
 */
import { closeSync, read, readSync, writeSync } from 'node:fs';
import { BerthError } from '@berth/oci';
import { errnoText, loadAddon } from './addon.js';

/** A launched shim: its sync lines, its early stderr, and the end of both. */
export interface ShimChannel {
  readonly pid: number;
  /** The next line on fd 3, or undefined at EOF; rejects with the signal's reason on abort. */
  next(signal?: AbortSignal): Promise<string | undefined>;
  /** Writes one line to the shim (`continue`, `abort`). */
  send(line: string): void;
  /** What the shim wrote to stderr so far (it writes there only before its log is open). */
  stderr(): string;
  /**
   * Closes both fds (after any pending read ends), then reaps the spawned process, waiting for
   * it: the file must end on its own once the socket is shut (berth-shim daemonises at once).
   */
  close(): void;
}

/**
 * Spawns `file launchPath` detached, stdin/stdout from the given fds (-1: /dev/null).
 * @throws BerthError LAUNCH_FAILED naming the file when it cannot be spawned (ENOENT, EACCES)
 */
export function spawnShim(file: string, args: string[], stdin: number, stdout: number): ShimChannel {
  const sys = loadAddon();
  const r = sys.spawnDetached(file, args, stdin, stdout);
  if (typeof r === 'number')
    throw new BerthError('LAUNCH_FAILED', `berth-shim ${file}: spawn: ${errnoText(r)}`, {
      input: { field: 'shim' },
    });
  const [pid, syncFd, errFd] = r;
  let buf = '';
  let ended = false;
  let reading = false;
  let closing = false;
  let closed = false;
  let reaped = false;
  const chunk = Buffer.allocUnsafe(512);
  const finishClose = () => {
    if (closed) return;
    closed = true;
    closeSync(syncFd);
    closeSync(errFd);
  };
  const readMore = (): Promise<void> =>
    new Promise((done) => {
      reading = true;
      read(syncFd, chunk, 0, chunk.length, null, (err, n) => {
        reading = false;
        if (err || n === 0) ended = true;
        else buf += chunk.toString('utf8', 0, n);
        if (closing) finishClose();
        done();
      });
    });
  const takeLine = (): string | undefined => {
    const nl = buf.indexOf('\n');
    if (nl < 0) return undefined;
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    return line;
  };
  return {
    pid,
    async next(signal) {
      for (;;) {
        const line = takeLine();
        if (line !== undefined) return line;
        if (ended || closing) return undefined;
        signal?.throwIfAborted();
        const onAbort = () => sys.shutdown(syncFd);
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await readMore();
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
        signal?.throwIfAborted();
      }
    },
    send(line) {
      try {
        writeSync(syncFd, `${line}\n`);
      } catch {
        // the shim is gone: its EOF or exit record says what happened
      }
    },
    stderr() {
      let text = '';
      const b = Buffer.allocUnsafe(4096);
      for (;;) {
        let n = 0;
        try {
          n = readSync(errFd, b, 0, b.length, null);
        } catch {
          break; // EAGAIN: nothing more now
        }
        if (n === 0) break;
        text += b.toString('utf8', 0, n);
        if (text.length > 64 * 1024) break;
      }
      return text;
    },
    close() {
      if (!closing) {
        closing = true;
        if (reading) sys.shutdown(syncFd);
        else finishClose();
      }
      if (!reaped) {
        reaped = true;
        // the spawned process only daemonises (forks and exits) or fails: it is gone or going,
        // and with its sync socket shut it has nothing left to wait for
        sys.waitpid(pid);
      }
    },
  };
}
