import {
  closeSync,
  fsync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { readdir, rename, rm, unlink } from 'node:fs/promises';
import { BerthError, type FileLock, type FileLocker, sha256 } from '@berth/oci';
import { withLock } from './lock.js';

/** Version tag of `metadata.json`. */
export const METADATA_VERSION = 'berth.snapshots.v1';
/** Version tag of a per-snapshot record (`records/<sha256 of key>.json`). */
export const RECORD_VERSION = 'berth.snapshot.v1';

/** Kinds of snapshot (containerd's `Kind`). */
export type SnapshotKind = 'active' | 'view' | 'committed';

/** Disk use of a snapshot's own directory. */
export interface Usage {
  /** Bytes allocated on disk (`st_blocks * 512`, each inode counted once). */
  size: number;
  /** Distinct inodes (hardlinks counted once). */
  inodes: number;
}

/** One snapshot as recorded. */
export interface SnapshotRecord {
  /** Numeric directory under `snapshots/`, short so overlay options stay short. */
  id: number;
  /** Kind. */
  kind: SnapshotKind;
  /** Parent's name (a committed snapshot), if any. */
  parent?: string;
  /** Free-form labels. */
  labels: Record<string, string>;
  /** ISO time of creation. */
  created: string;
  /** ISO time of the last change. */
  updated: string;
  /** Usage, measured at commit. */
  usage?: Usage;
}

/** The in-memory metadata: key or name → record. */
export interface Metadata {
  /** Next directory number. */
  nextId: number;
  /** Snapshots by key (active, view) or name (committed); one namespace. */
  snapshots: Map<string, SnapshotRecord>;
  /**
   * Keys whose record is its own file (active snapshots and views made by this version), not
   * an entry of `metadata.json`.
   */
  files: Set<string>;
}

interface RecordFile extends SnapshotRecord {
  version: typeof RECORD_VERSION;
  key: string;
}

interface MetadataFile {
  version: typeof METADATA_VERSION;
  nextId: number;
  snapshots: [string, SnapshotRecord][];
}

const corrupt = (path: string, what: string, cause?: unknown): BerthError =>
  new BerthError('SNAPSHOT_METADATA_CORRUPT', `snapshot metadata ${path}: ${what}`, {
    input: { file: path, line: 1 },
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * The snapshotter's metadata, in two forms (DESIGN.md, state on disk):
 *
 * - `metadata.json`: committed snapshots (and active snapshots or views left by an older
 *   version), rewritten whole under an exclusive lock: temp, fsync, rename, fsync the directory.
 * - `records/<sha256 of key>.json`: one file per active snapshot or view, created with link(2)
 *   (fails when the key exists) and removed with unlink(2), under a *shared* lock, so parallel
 *   container creates and removes never wait on each other.
 *
 * The lock (`metadata.flock`, taken through the snapshotter's `FileLocker`: flock(2) when the
 * engine injects `@berth/runtime`'s flock(2), else proper-lockfile's `metadata.flock.lock` directory) is shared
 * for record-file changes and exclusive for `metadata.json` changes (commit, removing a committed
 * snapshot, cleanup), which therefore see no record half-made. A locker without shared locks
 * takes an exclusive one (correct, only less parallel across processes). Reads take no lock.
 */
/**
 * Writes `doc` as one JSON line to the new file `tmp` (mode 0600) and fsyncs it. Synchronous
 * system calls, as {@link syncDir}: a promise open, write, fsync and close are four thread-pool
 * round trips (~0.1 ms of CPU each) for a file of a few hundred bytes.
 */
function writeSynced(tmp: string, doc: unknown, durable = true): void {
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeFileSync(fd, `${JSON.stringify(doc)}\n`);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class MetadataStore {
  private readonly file: string;
  private readonly records: string;
  private readonly lockPath: string;
  private readonly gate: Gate;

  constructor(
    private readonly root: string,
    private readonly locker: FileLocker,
  ) {
    this.file = `${root}/metadata.json`;
    this.records = `${root}/records`;
    this.lockPath = `${root}/metadata.flock`;
    this.gate = gateOf(this.lockPath, locker);
  }

  private recordPath(key: string): string {
    return `${this.records}/${sha256(key).toString('hex')}.json`;
  }

  private async readGlobal(): Promise<{ nextId: number; snapshots: Map<string, SnapshotRecord> }> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { nextId: 1, snapshots: new Map() };
      throw corrupt(this.file, 'cannot read', err);
    }
    let doc: MetadataFile;
    try {
      doc = JSON.parse(text) as MetadataFile;
    } catch (err) {
      throw corrupt(this.file, 'not JSON', err);
    }
    if (
      doc?.version !== METADATA_VERSION ||
      !Number.isSafeInteger(doc.nextId) ||
      !Array.isArray(doc.snapshots)
    ) {
      throw corrupt(this.file, `unknown version or shape (want ${METADATA_VERSION})`);
    }
    return { nextId: doc.nextId, snapshots: new Map(doc.snapshots) };
  }

  /** The record of `key` from its own file, or undefined. */
  async readRecord(key: string): Promise<SnapshotRecord | undefined> {
    const r = await this.readRecordFile(this.recordPath(key));
    return r && r.key === key ? r.rec : undefined;
  }

  private async readRecordFile(path: string): Promise<{ key: string; rec: SnapshotRecord } | undefined> {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed meanwhile
      throw corrupt(path, 'cannot read', err);
    }
    let doc: RecordFile;
    try {
      doc = JSON.parse(text) as RecordFile;
    } catch (err) {
      throw corrupt(path, 'not JSON', err);
    }
    if (doc?.version !== RECORD_VERSION || typeof doc.key !== 'string' || !Number.isSafeInteger(doc.id)) {
      throw corrupt(path, `unknown version or shape (want ${RECORD_VERSION})`);
    }
    const { version: _v, key, ...rec } = doc;
    return { key, rec };
  }

  /**
   * Reads the current metadata, both forms (empty when nothing exists yet). A record file whose
   * directory number `metadata.json` also names is what a crash during a commit left: ignored
   * (and deleted by the next exclusive change).
   */
  async read(): Promise<Metadata> {
    const g = await this.readGlobal();
    const m: Metadata = { nextId: g.nextId, snapshots: g.snapshots, files: new Set() };
    const ids = new Set([...g.snapshots.values()].map((r) => r.id));
    for (const { key, rec } of await this.readRecords()) {
      if (ids.has(rec.id) || m.snapshots.has(key)) continue;
      m.snapshots.set(key, rec);
      m.files.add(key);
    }
    return m;
  }

  private async readRecords(): Promise<{ key: string; rec: SnapshotRecord; path: string }[]> {
    let names: string[];
    try {
      names = await readdir(this.records);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw corrupt(this.records, 'cannot read', err);
    }
    const out: { key: string; rec: SnapshotRecord; path: string }[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const path = `${this.records}/${name}`;
      const r = await this.readRecordFile(path);
      if (r) out.push({ ...r, path });
    }
    return out;
  }

  /**
   * Runs `fn` on the current metadata under the exclusive lock; writes `metadata.json` back when
   * `fn` returns `write: true`. Keys in `m.files` that `fn` deleted lose their record file after
   * the write (a commit moves one into `metadata.json`).
   */
  update<T>(fn: (m: Metadata) => Promise<{ value: T; write: boolean }>): Promise<T> {
    return this.gate.exclusive(async () => {
      mkdirSync(this.root, { recursive: true });
      return withLock(this.locker, this.lockPath, async () => {
        const m = await this.read();
        const files = new Set(m.files);
        const { value, write } = await fn(m);
        if (write) {
          await this.write(m);
          for (const key of files) {
            if (!m.snapshots.has(key)) await rm(this.recordPath(key), { force: true });
          }
        }
        return value;
      });
    });
  }

  /**
   * Runs `fn` under the shared lock: record-file changes ({@link addRecord},
   * {@link removeRecord}) of different keys run in parallel, never during an {@link update}.
   */
  shared<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate.shared(async () => {
      mkdirSync(this.records, { recursive: true });
      return fn();
    });
  }

  /**
   * Creates the record file of `key` (under {@link shared}): temp, fsync, link(2), fsync the
   * directory. Returns false when `key` has a record file already, unless that file is one a
   * commit cut short left (its number is in `global`, `metadata.json`'s numbers): replaced.
   * `durable: false` leaves out both fsyncs (still atomic against a killed process; a power
   * loss may lose the record, and its tree is then an orphan for `cleanup()`).
   */
  async addRecord(key: string, rec: SnapshotRecord, global: Set<number>, durable = true): Promise<boolean> {
    const doc: RecordFile = { version: RECORD_VERSION, key, ...rec };
    const tmp = `${this.records}/.tmp-${process.pid}-${rec.id}`;
    const path = this.recordPath(key);
    writeSynced(tmp, doc, durable);
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const cur = await this.readRecordFile(path);
      if (cur && !global.has(cur.rec.id)) return false;
      renameSync(tmp, path);
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // linked and renamed away, or never made
      }
    }
    if (durable) syncDir(this.records);
    return true;
  }

  /**
   * The metadata `key` needs: `metadata.json` plus the record file of `key` only (cheaper than
   * {@link read} with many containers).
   */
  async lookup(key: string): Promise<Metadata> {
    const g = await this.readGlobal();
    const m: Metadata = { nextId: g.nextId, snapshots: g.snapshots, files: new Set() };
    if (m.snapshots.has(key)) return m;
    const rec = await this.readRecord(key);
    if (rec && ![...g.snapshots.values()].some((r) => r.id === rec.id)) {
      m.snapshots.set(key, rec);
      m.files.add(key);
    }
    return m;
  }

  /**
   * Deletes the record file of `key` (under {@link shared}); false when it has none. `durable`
   * fsyncs the directory after (the deletion is on disk before the caller removes the tree);
   * `pool` makes the unlink and that fsync on the thread pool (beside other removals, whose
   * waits on the disk then overlap).
   */
  async removeRecord(key: string, durable = true, pool = false): Promise<boolean> {
    try {
      if (pool) await unlink(this.recordPath(key));
      else unlinkSync(this.recordPath(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    if (durable && pool) await syncDirOnPool(this.records);
    else if (durable) syncDir(this.records);
    return true;
  }

  /**
   * Deletes what a crash left in `records/` (under {@link update}): temp files, and record files
   * of snapshots `metadata.json` holds (a commit cut short). Returns the directory numbers the
   * kept records name.
   */
  async cleanRecords(committed: Set<number>): Promise<Set<number>> {
    const ids = new Set<number>();
    let names: string[] = [];
    try {
      names = await readdir(this.records);
    } catch {
      return ids;
    }
    for (const name of names.filter((n) => n.startsWith('.tmp-'))) {
      await rm(`${this.records}/${name}`, { force: true });
    }
    for (const { rec, path } of await this.readRecords()) {
      if (committed.has(rec.id)) await rm(path, { force: true });
      else ids.add(rec.id);
    }
    return ids;
  }

  private async write(m: Metadata): Promise<void> {
    const global = [...m.snapshots].filter(([k]) => !m.files.has(k));
    const nextId = Math.max(m.nextId, ...global.map(([, r]) => r.id + 1));
    const doc: MetadataFile = { version: METADATA_VERSION, nextId, snapshots: global };
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeSynced(tmp, doc);
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    syncDir(this.root);
  }
}

function syncDir(dir: string): void {
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** {@link syncDir} with only the fsync, which waits for the disk, on the thread pool. */
async function syncDirOnPool(dir: string): Promise<void> {
  const dfd = openSync(dir, 'r');
  try {
    await new Promise<void>((resolve, reject) => fsync(dfd, (err) => (err ? reject(err) : resolve())));
  } finally {
    closeSync(dfd);
  }
}

/**
 * In-process readers-writer gate in front of the flock: shared holders in this process share
 * one shared flock (so at most one pool thread waits for it), an exclusive holder waits until
 * they are done; waiters are admitted in arrival order.
 */
class Gate {
  private readers = 0;
  private writer = false;
  private held: Promise<FileLock> | undefined;
  private closing: Promise<void> | undefined;
  private readonly waiting: { ex: boolean; go: () => void }[] = [];

  constructor(
    private readonly path: string,
    private readonly locker: FileLocker,
  ) {}

  private canGo(ex: boolean): boolean {
    if (this.writer || this.closing) return false;
    return ex ? this.readers === 0 : true;
  }

  private admit(ex: boolean): Promise<void> {
    if (this.waiting.length === 0 && this.canGo(ex)) {
      if (ex) this.writer = true;
      else this.readers++;
      return Promise.resolve();
    }
    return new Promise((go) => this.waiting.push({ ex, go }));
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.canGo(this.waiting[0]!.ex)) {
      const w = this.waiting.shift()!;
      if (w.ex) this.writer = true;
      else this.readers++;
      w.go();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.admit(true);
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.pump();
    }
  }

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    await this.admit(false);
    try {
      const dir = this.path.slice(0, this.path.lastIndexOf('/'));
      if (!this.held) {
        mkdirSync(dir, { recursive: true });
        if (!this.held) {
          const p = this.locker.lock(this.path, { shared: true });
          this.held = p;
          p.catch(() => {
            if (this.held === p) this.held = undefined;
          });
        }
      }
      await this.held;
      return await fn();
    } finally {
      this.readers--;
      if (this.readers === 0 && this.held) {
        const p = this.held;
        this.held = undefined;
        this.closing = p.then(
          (l) => l.release(),
          () => undefined,
        );
        await this.closing;
        this.closing = undefined;
      }
      this.pump();
    }
  }
}

/** One gate per lock path in a process (with the locker of the first snapshotter there). */
const gates = new Map<string, Gate>();
const gateOf = (path: string, locker: FileLocker): Gate => {
  let g = gates.get(path);
  if (!g) {
    g = new Gate(path, locker);
    gates.set(path, g);
  }
  return g;
};
