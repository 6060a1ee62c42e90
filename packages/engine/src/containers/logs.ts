/**
 * Reading docker's json-file log (one `{"log","stream","time"}` object a line) that berth-shim
 * writes: the archived runs in `containers/<id>/<id>-json.log`, then the live run's rotated
 * files (`.N` … `.1`) and its current file. `follow` keeps reading the current file (across
 * rotation) until the run ends.
 *
 * The reads are synchronous system calls (64 KiB each, a long log giving way to the event loop
 * every 1 MiB), as the records' are (record.ts): a `run` follows its container's log to learn of the exit, and each
 * promise step of node:fs/promises was a thread-pool round trip, about twelve of them between a
 * `run --rm`'s start and its removal. On a busy machine (docker's work right before) each round
 * trip waited up to a few milliseconds for a pool thread and then for the event loop to be
 * scheduled again; the watcher's wake-up and the answer are now one turn of the loop.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import type { LogEntry } from './types.js';

/** Where one container's log files are. */
export interface LogFiles {
  /** Archived runs (may be missing). */
  archive: string;
  /** The live run's current file (may be missing), in the shim's directory. */
  live?: string;
}

function parseLine(line: string): LogEntry | undefined {
  if (line === '') return undefined;
  try {
    const v = JSON.parse(line) as Partial<LogEntry>;
    if (typeof v.log !== 'string' || typeof v.time !== 'string') return undefined;
    if (v.stream !== 'stdout' && v.stream !== 'stderr') return undefined;
    return { log: v.log, stream: v.stream, time: v.time };
  } catch {
    // a torn last line of a crashed writer, or garbage: skipped, as docker's decoder does
    return undefined;
  }
}

/** An open file's descriptor, or undefined when it cannot be opened (missing). */
function openFile(path: string): number | undefined {
  try {
    return openSync(path, 'r');
  } catch {
    return undefined;
  }
}

/** Chunks read in one turn of the event loop: a long log gives way every 1 MiB. */
const CHUNKS_PER_TURN = 16;

async function* readLines(fd: number, start: number, state: { offset: number }): AsyncGenerator<string> {
  let pos = start;
  let rest = '';
  const buf = Buffer.alloc(64 * 1024);
  for (let n = 1; ; n++) {
    if (n % CHUNKS_PER_TURN === 0) await new Promise<void>((r) => setImmediate(r));
    const bytesRead = readSync(fd, buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    const text = rest + buf.subarray(0, bytesRead).toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    state.offset = pos - Buffer.byteLength(rest);
    for (const l of lines) yield l;
  }
}

async function* readFile(path: string): AsyncGenerator<LogEntry> {
  const fd = openFile(path);
  if (fd === undefined) return;
  try {
    for await (const l of readLines(fd, 0, { offset: 0 })) {
      const e = parseLine(l);
      if (e) yield e;
    }
  } finally {
    closeSync(fd);
  }
}

function rotated(live: string): string[] {
  const dir = join(live, '..');
  const base = live.slice(dir.length + 1);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  return names
    .map((n) => ({ n, m: new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)$`).exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(b.m?.[1]) - Number(a.m?.[1]))
    .map((x) => join(dir, x.n));
}

/** The inode at `path`, or -1 when there is none (or it cannot be read: followed as before). */
function inodeAt(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return -1;
  }
}

/** Options of {@link readLog}. */
export interface ReadLogOptions {
  /** Keep reading the live file until `ended()` says the run is over. */
  follow?: boolean;
  /** Whether the live run has ended (checked while following). */
  ended?: () => Promise<boolean>;
  signal?: AbortSignal;
}

/**
 * Every entry in order; with `follow`, new entries of the live file as they arrive, until the
 * run ends (then the rest is drained) or the signal aborts.
 */
export async function* readLog(files: LogFiles, opts: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  yield* readFile(files.archive);
  if (files.live === undefined) return;
  for (const r of rotated(files.live)) yield* readFile(r);
  if (!opts.follow) {
    yield* readFile(files.live);
    return;
  }
  // follow: keep the current file open; on rotation (a new inode at the path) finish the old one
  const live = files.live;
  let fd = openFile(live);
  let ino = fd === undefined ? -1 : fstatSync(fd).ino;
  const state = { offset: 0 };
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    watcher = watch(join(live, '..'), { persistent: false }, poke);
    watcher.on('error', poke);
  } catch {
    watcher = undefined;
  }
  const onAbort = () => poke();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (fd !== undefined) {
        for await (const l of readLines(fd, state.offset, state)) {
          const e = parseLine(l);
          if (e) yield e;
        }
      }
      if (opts.signal?.aborted) return;
      const now = inodeAt(live);
      if (now !== -1 && now !== ino) {
        // rotated: the old file was read to its end above; continue with the new file
        if (fd !== undefined) closeSync(fd);
        fd = openFile(live);
        ino = fd === undefined ? -1 : fstatSync(fd).ino;
        state.offset = 0;
        continue;
      }
      const over = opts.ended ? await opts.ended() : true;
      if (over) {
        if (fd !== undefined) {
          for await (const l of readLines(fd, state.offset, state)) {
            const e = parseLine(l);
            if (e) yield e;
          }
        }
        return;
      }
      // a watcher can miss events (or be absent): never sleep long. The timer is not unref'd:
      // a follower must keep its process alive while it waits
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(poke, 250);
      });
      clearTimeout(timer);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    watcher?.close();
    if (fd !== undefined) closeSync(fd);
  }
}
