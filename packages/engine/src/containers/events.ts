/**
 * The event log: docker's events (container create/start/die/kill/stop/destroy…, image
 * pull/tag/delete) kept as JSON lines in `<root>/events.log` (`berth.events.v1`, one
 * `events.Message` per line) so that every berth process, the exit and health hooks included,
 * can add to it with no daemon, and `berth events` (later `berthd`) reads and follows it.
 *
 * Writers append one line with one write(2) on an O_APPEND descriptor: the kernel places each
 * write at the end of the file, so concurrent writers never interleave inside a line. The log
 * is bounded: once the file passes {@link EVENTS_MAX_BYTES} the writer that noticed renames it
 * to `events.log.1` (replacing the previous one) under `events.lock`, so at most twice that is
 * kept (docker keeps its last 256 events in memory; a file keeps more and survives restarts).
 * Readers read `events.log.1` then `events.log`, and a follower notices the rename by the inode.
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { type FileHandle, open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The file a state root keeps its events in. */
export const EVENTS_FILE = 'events.log';
/** Size at which the log is rotated (one previous file is kept). */
export const EVENTS_MAX_BYTES = 1024 * 1024;

/** docker's object types in events. */
export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'builder';

/** docker's `events.Message` (Engine API `SystemEventsResponse`). */
export interface EngineEvent {
  /** Deprecated fields docker still fills for containers and images. */
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  /** `create`, `start`, `die`, `health_status: healthy`… */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds. */
  timeNano: number;
}

/** What a writer gives: the rest is filled in. */
export interface EventInput {
  Type: EventType;
  Action: string;
  id: string;
  attributes?: Record<string, string>;
}

let lastNano = 0n;
/**
 * Wall-clock nanoseconds, strictly increasing within one process. Events in the same millisecond
 * step by a microsecond, not a nanosecond: `timeNano` is a JS number, whose precision at today's
 * ~1.8e18 ns is 256 ns, so a 1 ns step could round back to the previous event's time.
 */
function nowNano(): bigint {
  const ms = BigInt(Date.now()) * 1_000_000n;
  const t = ms > lastNano ? ms : lastNano + 1_000n;
  lastNano = t;
  return t;
}

/** Builds the message docker would send for an event happening now. */
export function makeEvent(e: EventInput, at = nowNano()): EngineEvent {
  const attributes = e.attributes ?? {};
  const legacy =
    e.Type === 'container' || e.Type === 'image'
      ? {
          status: e.Action,
          id: e.id,
          ...(e.Type === 'container' && attributes.image !== undefined ? { from: attributes.image } : {}),
        }
      : {};
  return {
    ...legacy,
    Type: e.Type,
    Action: e.Action,
    Actor: { ID: e.id, Attributes: attributes },
    scope: 'local',
    time: Number(at / 1_000_000_000n),
    timeNano: Number(at),
  };
}

/**
 * Appends an event to the root's log. Never throws: an event that cannot be written must not
 * fail the operation it reports (docker drops events for slow subscribers the same way).
 * Synchronous system calls behind the promise: one O_APPEND write of a line to a local file
 * (no fsync) takes microseconds, where open, write, fstat and close through the thread pool
 * were four round trips, and a `berth run --rm` appends four events. An array appends its events
 * in one write, in order.
 */
export async function appendEvent(root: string, e: EventInput | readonly EventInput[]): Promise<void> {
  const path = join(root, EVENTS_FILE);
  // several events of one moment (a removal's die and destroy): one open and one write, in order
  const line = Array.isArray(e)
    ? e.map((x) => `${JSON.stringify(makeEvent(x))}\n`).join('')
    : `${JSON.stringify(makeEvent(e as EventInput))}\n`;
  let fd: number | undefined;
  let size = 0;
  let ino = 0;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    writeSync(fd, line);
    ({ size, ino } = fstatSync(fd));
  } catch {
    // see above
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // see above
      }
    }
  }
  if (size > EVENTS_MAX_BYTES) await rotate(root, ino).catch(() => {});
}

async function rotate(root: string, ino: number): Promise<void> {
  const path = join(root, EVENTS_FILE);
  // imported here: the engine loads this module for every command, the runtime only when used
  const { lockFile } = await import('@berth/runtime');
  const l = await lockFile(join(root, 'events.lock'));
  try {
    // another writer may have rotated meanwhile: only the file we wrote to, and only once
    const st = await stat(path).catch(() => undefined);
    if (st && st.ino === ino && st.size > EVENTS_MAX_BYTES) await rename(path, `${path}.1`);
  } finally {
    await l.release();
  }
}

/** The filter keys `berth events --filter` takes (docker's subset berth has objects for). */
export const EVENT_FILTER_KEYS = ['container', 'event', 'image', 'label', 'type', 'scope'] as const;

/**
 * docker's event filters: several values of one key match any, different keys must all match.
 * `container` is an ID (or prefix) or name, `event` an action (`health_status` matches every
 * health status), `image` the image attribute (or an image event's ID), `label` `key` or
 * `key=value`.
 * @returns undefined when a key is unknown (the caller reports it).
 */
export function eventMatches(e: EngineEvent, filters: Readonly<Record<string, readonly string[]>>): boolean {
  const a = e.Actor.Attributes;
  for (const [k, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    const ok = values.some((v) => {
      switch (k) {
        case 'container':
          return (
            e.Type === 'container' &&
            (e.Actor.ID.startsWith(v) || a.name === v || a.name === v.replace(/^\//, ''))
          );
        case 'event':
          return e.Action === v || e.Action.split(':')[0] === v;
        case 'image':
          return a.image === v || (e.Type === 'image' && (e.Actor.ID === v || a.name === v));
        case 'label': {
          const eq = v.indexOf('=');
          return eq < 0 ? Object.hasOwn(a, v) : a[v.slice(0, eq)] === v.slice(eq + 1);
        }
        case 'type':
          return e.Type === v;
        case 'scope':
          return e.scope === v;
        default:
          return false;
      }
    });
    if (!ok) return false;
  }
  return true;
}

/** Options of {@link readEvents}. */
export interface ReadEventsOptions {
  /** Unix ms: events at or after it; without it, only events from now on (docker's default). */
  since?: number;
  /** Unix ms: stop at it (waiting until then when it is in the future). */
  until?: number;
  /** Keep following new events (until `until`, or the signal). Default true. */
  follow?: boolean;
  /** Poll interval while following, ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

interface Cursor {
  fh: FileHandle;
  ino: number;
  pos: number;
  rest: string;
}

async function openCursor(path: string, atEnd: boolean): Promise<Cursor | undefined> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return undefined;
  const st = await fh.stat();
  return { fh, ino: st.ino, pos: atEnd ? st.size : 0, rest: '' };
}

/** Reads what was appended since the cursor's position: whole lines only. */
async function readMore(c: Cursor): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    const { bytesRead } = await c.fh.read(buf, 0, buf.length, c.pos);
    if (bytesRead === 0) break;
    c.pos += bytesRead;
    c.rest += buf.subarray(0, bytesRead).toString('utf8');
    const lines = c.rest.split('\n');
    c.rest = lines.pop() ?? '';
    for (const l of lines) {
      if (l === '') continue;
      try {
        out.push(JSON.parse(l) as EngineEvent);
      } catch {
        // a torn line (a writer killed mid-write on a full disk): skipped
      }
    }
  }
  return out;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: callers check the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The root's events in order: the stored ones from `since`, then (with `follow`) new ones as
 * they are appended, until `until` passes or the signal aborts.
 */
export async function* readEvents(root: string, o: ReadEventsOptions = {}): AsyncGenerator<EngineEvent> {
  const path = join(root, EVENTS_FILE);
  const follow = o.follow ?? true;
  const pollMs = o.pollMs ?? 100;
  const inRange = (e: EngineEvent) => {
    const ms = e.timeNano / 1e6;
    return (o.since === undefined || ms >= o.since) && (o.until === undefined || ms <= o.until);
  };
  if (o.since !== undefined) {
    const old = await openCursor(`${path}.1`, false);
    if (old) {
      try {
        for (const e of await readMore(old)) if (inRange(e)) yield e;
      } finally {
        await old.fh.close();
      }
    }
  }
  let cur = await openCursor(path, o.since === undefined);
  try {
    for (;;) {
      if (cur) for (const e of await readMore(cur)) if (inRange(e)) yield e;
      const now = Date.now();
      if (!follow || o.signal?.aborted || (o.until !== undefined && now > o.until)) return;
      await sleep(o.until === undefined ? pollMs : Math.min(pollMs, o.until - now + 1), o.signal);
      const st = await stat(path).catch(() => undefined);
      if (st && (!cur || st.ino !== cur.ino)) {
        // rotated: finish the old file, then read the new one from its start
        if (cur) {
          for (const e of await readMore(cur)) if (inRange(e)) yield e;
          await cur.fh.close();
        }
        cur = await openCursor(path, false);
      }
    }
  } finally {
    await cur?.fh.close();
  }
}
