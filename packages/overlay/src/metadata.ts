import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { BerthError } from '@berth/oci';
import { withLock } from '@berth/sys';

/** Version tag of `metadata.json`. */
export const METADATA_VERSION = 'berth.snapshots.v1';

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
 * The snapshotter's metadata file. Reads need no lock (writes replace the file atomically);
 * changes take an in-process queue plus a cross-process flock(2) (`@berth/sys`), then write temp,
 * fsync, rename, fsync the directory (DESIGN.md, state on disk).
 */
export class MetadataStore {
  private readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly root: string) {
    this.file = `${root}/metadata.json`;
  }

  /** Reads the current metadata (empty when the file does not exist yet). */
  async read(): Promise<Metadata> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
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

  /**
   * Runs `fn` on the current metadata under the lock; writes the result back when `fn` returns
   * `write: true`.
   */
  update<T>(fn: (m: Metadata) => Promise<{ value: T; write: boolean }>): Promise<T> {
    const run = async (): Promise<T> => {
      await mkdir(this.root, { recursive: true });
      // flock(2) (`metadata.flock`): the kernel drops it when a holder dies, so a kill -9 leaves
      // no stale lock to wait out (proper-lockfile's mkdir lock needed a 30 s staleness window)
      return withLock(`${this.root}/metadata.flock`, async () => {
        const m = await this.read();
        const { value, write } = await fn(m);
        if (write) await this.write(m);
        return value;
      });
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async write(m: Metadata): Promise<void> {
    const doc: MetadataFile = { version: METADATA_VERSION, nextId: m.nextId, snapshots: [...m.snapshots] };
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(doc)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const dfd = openSync(this.root, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}
