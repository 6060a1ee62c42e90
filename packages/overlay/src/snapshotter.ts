import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import {
  BerthError,
  type FileLocker,
  type FsCalls,
  isoTime,
  type Logger,
  type Mount,
  REMOVE_TREE_SYNC_BUDGET,
  randomBytes,
  removeTree,
  silentLogger,
} from '@berth/oci';
import { snapshotError } from './errors.js';
import { lockfileLocker } from './lock.js';
import {
  type Metadata,
  MetadataStore,
  type SnapshotKind,
  type SnapshotRecord,
  type Usage,
} from './metadata.js';
import { runTool, toolFsCalls } from './tools.js';
import { treeUsage } from './usage.js';

/** How snapshots are stacked: overlayfs, or full copies where overlay cannot mount. */
export type SnapshotterDriver = 'overlay' | 'copy';

/** What {@link Snapshotter.stat} and {@link Snapshotter.walk} report. */
export interface SnapshotInfo {
  /** The key (active, view) or name (committed). */
  name: string;
  /** Kind. */
  kind: SnapshotKind;
  /** Parent's name, if any. */
  parent?: string;
  /** Labels given at prepare, view or commit. */
  labels: Record<string, string>;
  /** ISO creation time. */
  created: string;
  /** ISO time of the last change. */
  updated: string;
  /** The snapshot's own directory (`<root>/snapshots/<n>/fs`). */
  dir: string;
}

/** Options of prepare, view and commit. */
export interface SnapshotOptions {
  /** Labels recorded with the snapshot. */
  labels?: Record<string, string>;
  /** Aborts the work (copying, usage). */
  signal?: AbortSignal;
  /**
   * `false`: the new snapshot's record is not fsynced ({@link Snapshotter.prepare} and
   * {@link Snapshotter.view}), for a snapshot nobody wants back after a power loss (a `--rm`
   * container's volatile root). Still atomic against a killed process; a power loss may leave
   * its tree without a record, an orphan that {@link Snapshotter.cleanup} removes.
   */
  durable?: boolean;
}

/** Options of {@link Snapshotter.commit}. */
export interface CommitOptions extends SnapshotOptions {
  /**
   * Commit on top of this committed snapshot although the active snapshot was prepared without
   * a parent (overlay driver only). Its directory must hold a layer in overlay form (whiteouts
   * as 0:0 devices, opaque xattrs), as an apply with deferred lowers writes it: then the result
   * is the same as preparing on `parent`. This lets layers be applied in parallel
   * ({@link unpackLayers}).
   */
  parent?: string;
  /**
   * The snapshot's usage, measured by whoever wrote it (an apply worker walks its own tree), so
   * the commit does not walk it again on this thread.
   */
  usage?: Usage;
}

/**
 * A snapshotter (containerd's words, `core/snapshots/snapshotter.go`): it keeps filesystem
 * snapshots, each a directory, stacked on a parent.
 *
 * Terms: a **key** names an *active* snapshot (writable, from {@link prepare}) or a *view*
 * (read-only, from {@link view}); a **name** names a *committed* snapshot (immutable, from
 * {@link commit}). Keys and names share one namespace. Only committed snapshots can be parents.
 *
 * Lifecycle: `prepare(key, parent)` → mount the returned `Mount[]` and write (or apply a layer
 * into it) → `commit(name, key)` (the active snapshot becomes the committed `name`, `key` is
 * gone) → eventually `remove(name)`. A container root is `prepare(containerKey, imageChainId)`,
 * removed with the container. `view(key, parent)` gives a read-only root; `remove(key)` ends it.
 * Layers are unpacked as `prepare` → `applyLayer` → `commit(chainId)` ({@link unpackLayer}).
 *
 * The snapshotter returns mounts as data and never mounts itself ({@link mountAll} does).
 */
export interface Snapshotter {
  /** The snapshotter's root directory. */
  readonly root: string;
  /** The driver in use. */
  readonly driver: SnapshotterDriver;
  /** The syncfs/mknod/inode-flag calls it and the unpacks into it make ({@link CreateSnapshotterOptions.fsCalls}). */
  readonly fsCalls: FsCalls;
  /**
   * Where the unpacks into it find an addon with ISA-L's gzip decoder
   * ({@link CreateSnapshotterOptions.gunzipAddon}); undefined: node:zlib decodes.
   */
  gunzipAddon(): Promise<string | undefined>;
  /**
   * Creates an active snapshot `key` on top of the committed `parent` (or empty) and returns
   * its mounts: overlay of the parent chain with an upper and work dir (overlay driver), or a
   * writable bind of a full copy of the parent (copy driver).
   * @throws SNAPSHOT_EXISTS, SNAPSHOT_NOT_FOUND (parent), SNAPSHOT_INVALID_STATE (parent not committed)
   */
  prepare(key: string, parent?: string, options?: SnapshotOptions): Promise<Mount[]>;
  /**
   * Creates a read-only view `key` of the committed `parent` and returns its mounts.
   * @throws SNAPSHOT_EXISTS, SNAPSHOT_NOT_FOUND, SNAPSHOT_INVALID_STATE
   */
  view(key: string, parent?: string, options?: SnapshotOptions): Promise<Mount[]>;
  /**
   * The mounts of an active snapshot or view.
   * @throws SNAPSHOT_NOT_FOUND, SNAPSHOT_INVALID_STATE (a committed snapshot has no mounts)
   */
  mounts(key: string): Promise<Mount[]>;
  /**
   * Turns the active snapshot `key` into the committed snapshot `name` and records its usage.
   * With `parent`, a snapshot prepared without a parent is committed on top of it.
   * @throws SNAPSHOT_NOT_FOUND, SNAPSHOT_EXISTS (name), SNAPSHOT_INVALID_STATE (not active; a
   *   `parent` with the copy driver, for a snapshot that has one, or not committed)
   */
  commit(name: string, key: string, options?: CommitOptions): Promise<void>;
  /**
   * {@link commit} of several active snapshots, in order, with one metadata write: all of them
   * or, on an error, none (a layer stack commits bottom first, each on the one before). A name
   * that exists already (a concurrent unpack of the same layer won) is not an error: that
   * entry's key is left active and reported as `'exists'` for the caller to remove.
   * @throws what {@link commit} throws, SNAPSHOT_EXISTS aside
   */
  commitAll(
    commits: readonly { name: string; key: string; options?: CommitOptions }[],
    options?: { signal?: AbortSignal },
  ): Promise<('committed' | 'exists')[]>;
  /**
   * Removes a snapshot of any kind and its directory. Unmount it first. The record goes first,
   * durably (its directory fsynced) before the tree; `durable: false` skips that fsync for a
   * snapshot nobody wants back after a power loss (a `--rm` container's volatile root: still
   * atomic against a killed process). `concurrent` says other removals run beside this one (an
   * `rm -f` of many containers): the directory's fsync and its tree's unlinks and rmdirs then go
   * to the thread pool, where theirs overlap, instead of holding the event loop.
   * @throws SNAPSHOT_NOT_FOUND, SNAPSHOT_HAS_CHILDREN
   */
  remove(key: string, options?: { durable?: boolean; concurrent?: boolean }): Promise<void>;
  /**
   * Information about a snapshot.
   * @throws SNAPSHOT_NOT_FOUND
   */
  stat(key: string): Promise<SnapshotInfo>;
  /**
   * Disk use of the snapshot's own directory (bytes on disk and inodes); measured at commit for
   * committed snapshots, live for the others.
   * @throws SNAPSHOT_NOT_FOUND
   */
  usage(key: string, options?: { signal?: AbortSignal }): Promise<Usage>;
  /** Every snapshot, ordered by key. */
  walk(): Promise<SnapshotInfo[]>;
  /** Removes snapshot directories no metadata names (left by a crash); returns how many. */
  cleanup(): Promise<number>;
}

/** Options of {@link createSnapshotter}. */
export interface CreateSnapshotterOptions {
  /**
   * The snapshotter's directory (berth uses `/var/lib/berth/snapshots`): it holds
   * `snapshots/<n>/{fs,work}`, `metadata.json` and its lock. Absolute, without `,` or `:`
   * (overlay's option separators).
   */
  root: string;
  /** `overlay` (default) or `copy`, for filesystems where overlay cannot mount. */
  driver?: SnapshotterDriver;
  /**
   * The cross-process lock of the metadata (`<root>/metadata.flock`). Default: proper-lockfile
   * (pure JS; shared locks taken as exclusive; a holder killed with `kill -9` blocks others for
   * up to 10 s). `@berth/engine` passes `@berth/runtime`'s flock(2) locker. Every process using this
   * root must use the same kind.
   */
  locker?: FileLocker;
  /**
   * syncfs(2), mknod(2) (whiteouts, devices, fifos) and `chattr +T`, for this snapshotter and
   * the unpacks into it. Default: coreutils, a process each (`toolFsCalls`); `@berth/engine`
   * passes `@berth/runtime`'s system calls.
   */
  fsCalls?: FsCalls;
  /**
   * Finds the path of an addon with ISA-L's gzip decoder (`GunzipAddon`), asked once, when the
   * first layer is unpacked; each apply thread loads it and decodes gzip layers with it. Default:
   * none, node:zlib decodes. `@berth/engine` passes `@berth/runtime`'s `berth-inflate.node`.
   */
  gunzipAddon?: () => Promise<string | undefined>;
  /** Structured logger. */
  logger?: Logger;
}

/**
 * Creates a {@link Snapshotter}. Directories are created on first use.
 * @throws SNAPSHOT_INVALID_ROOT
 */
export function createSnapshotter(options: CreateSnapshotterOptions): Snapshotter {
  const root = options.root.replace(/\/+$/, '');
  if (!isAbsolute(root) || /[,:\0]/.test(root)) {
    throw new BerthError(
      'SNAPSHOT_INVALID_ROOT',
      `snapshotter root ${JSON.stringify(options.root)}: must be an absolute path without ',' or ':'`,
      { input: { field: 'root' } },
    );
  }
  return new DirSnapshotter(
    root,
    options.driver ?? 'overlay',
    options.logger ?? silentLogger,
    options.locker ?? lockfileLocker,
    options.fsCalls ?? toolFsCalls,
    options.gunzipAddon,
  );
}

/**
 * The mounts of a snapshot, as data (pure; unit-tested).
 * @param driver - the driver
 * @param kind - active (writable) or view
 * @param own - the snapshot's own `fs` dir, and `work` dir
 * @param parents - the parent chain's `fs` dirs, nearest first
 */
export function snapshotMounts(
  driver: SnapshotterDriver,
  kind: 'active' | 'view',
  own: { fs: string; work: string },
  parents: readonly string[],
): Mount[] {
  const ro = kind === 'view';
  if (driver === 'copy') {
    // a view shares the committed parent's full tree read-only; an active snapshot is a copy
    const source = ro && parents[0] !== undefined ? parents[0] : own.fs;
    return [{ type: 'bind', source, options: ['rbind', ro ? 'ro' : 'rw'] }];
  }
  if (parents.length === 0) return [{ type: 'bind', source: own.fs, options: ['rbind', ro ? 'ro' : 'rw'] }];
  if (ro && parents.length === 1) return [{ type: 'bind', source: parents[0]!, options: ['rbind', 'ro'] }];
  if (ro) {
    // overlay needs two lowers without an upper dir
    return [{ type: 'overlay', source: 'overlay', options: ['ro', `lowerdir=${parents.join(':')}`] }];
  }
  // index=off: the same lowers are shared by many mounts; redirect_dir=off: renamed
  // directories are copied up, so diffs need only whiteouts and opaque dirs
  return [
    {
      type: 'overlay',
      source: 'overlay',
      options: [
        'index=off',
        'redirect_dir=off',
        `lowerdir=${parents.join(':')}`,
        `upperdir=${own.fs}`,
        `workdir=${own.work}`,
      ],
    },
  ];
}

const checkKey = (key: string, what: string): void => {
  if (typeof key !== 'string' || key === '' || key.includes('\0') || key.length > 4096) {
    throw new BerthError('SNAPSHOT_INVALID_STATE', `snapshot ${what} ${JSON.stringify(key)}: invalid`, {
      input: { ref: String(key) },
    });
  }
};

class DirSnapshotter implements Snapshotter {
  private readonly meta: MetadataStore;

  constructor(
    readonly root: string,
    readonly driver: SnapshotterDriver,
    private readonly logger: Logger,
    locker: FileLocker,
    readonly fsCalls: FsCalls,
    private readonly findGunzip?: () => Promise<string | undefined>,
  ) {
    this.meta = new MetadataStore(root, locker);
  }

  #gunzip: Promise<string | undefined> | undefined;

  gunzipAddon(): Promise<string | undefined> {
    this.#gunzip ??= (this.findGunzip?.() ?? Promise.resolve(undefined)).catch(() => undefined);
    return this.#gunzip;
  }

  #snapshotsDir: Promise<void> | undefined;

  /**
   * Creates `<root>/snapshots` once, marked as a top of directory hierarchies for ext2/3/4's Orlov
   * allocator (`chattr +T`, FS_TOPDIR_FL, through {@link FsCalls.setTopDir}): each snapshot's tree is an independent hierarchy, and
   * with the flag the kernel spreads them over block groups instead of packing them beside the
   * last one. On an ext4 without a journal (this project's CI disk) every create in a group first
   * skips the inodes freed there in the last 30 s (`recently_deleted`), so a pull that follows a
   * removal of the same size was packed into a group full of them. Best effort: other
   * filesystems refuse the flag and nothing changes.
   */
  private ensureSnapshotsDir(): Promise<void> {
    this.#snapshotsDir ??= (async () => {
      const dir = `${this.root}/snapshots`;
      mkdirSync(this.root, { recursive: true, mode: 0o755 });
      try {
        mkdirSync(dir, { mode: 0o755 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
        throw err;
      }
      await this.fsCalls
        .setTopDir(dir)
        .catch((err: unknown) =>
          this.logger.debug('snapshots directory: no Orlov top-directory flag', { dir, error: String(err) }),
        );
    })();
    this.#snapshotsDir.catch(() => {
      this.#snapshotsDir = undefined;
    });
    return this.#snapshotsDir;
  }

  private dirOf(id: number): { base: string; fs: string; work: string } {
    const base = `${this.root}/snapshots/${id}`;
    return { base, fs: `${base}/fs`, work: `${base}/work` };
  }

  private get(m: Metadata, key: string): SnapshotRecord {
    const r = m.snapshots.get(key);
    if (!r) throw snapshotError('SNAPSHOT_NOT_FOUND', key, 'not found');
    return r;
  }

  private chain(m: Metadata, parent: string | undefined): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    for (let p = parent; p !== undefined; p = m.snapshots.get(p)?.parent) {
      if (seen.has(p)) throw snapshotError('SNAPSHOT_METADATA_CORRUPT', p, 'parent cycle');
      seen.add(p);
      out.push(this.dirOf(this.get(m, p).id).fs);
    }
    return out;
  }

  private info(name: string, r: SnapshotRecord): SnapshotInfo {
    return {
      name,
      kind: r.kind,
      ...(r.parent === undefined ? {} : { parent: r.parent }),
      labels: { ...r.labels },
      created: r.created,
      updated: r.updated,
      dir: this.dirOf(r.id).fs,
    };
  }

  private async create(
    kind: 'active' | 'view',
    key: string,
    parent: string | undefined,
    options: SnapshotOptions,
  ) {
    checkKey(key, 'key');
    await this.ensureSnapshotsDir();
    // under the shared lock: other creates and removes run alongside; commits and removals of
    // committed snapshots (which change parents) wait
    const { rec, parents } = await this.meta.shared(async () => {
      const m = await this.meta.lookup(key);
      if (m.snapshots.has(key)) throw snapshotError('SNAPSHOT_EXISTS', key, 'already exists');
      if (parent !== undefined) {
        const p = m.snapshots.get(parent) ?? (await this.meta.readRecord(parent));
        if (!p) throw snapshotError('SNAPSHOT_NOT_FOUND', parent, 'not found');
        if (p.kind !== 'committed') {
          throw snapshotError(
            'SNAPSHOT_INVALID_STATE',
            parent,
            `is ${p.kind}; only committed snapshots can be parents`,
          );
        }
      }
      const id = await this.allocate(m);
      const now = isoTime(Date.now());
      const rec: SnapshotRecord = {
        id,
        kind,
        ...(parent === undefined ? {} : { parent }),
        labels: { ...options.labels },
        created: now,
        updated: now,
      };
      const dirs = this.dirOf(id);
      try {
        await this.makeFs(dirs.fs);
        if (this.driver === 'overlay' && kind === 'active') mkdirSync(dirs.work, { mode: 0o700 });
        // directory first: a crash before the record leaves an orphan for cleanup()
        const global = new Set([...m.snapshots].filter(([k]) => !m.files.has(k)).map(([, r]) => r.id));
        if (!(await this.meta.addRecord(key, rec, global, options.durable ?? true)))
          throw snapshotError('SNAPSHOT_EXISTS', key, 'already exists');
      } catch (err) {
        await rm(dirs.base, { recursive: true, force: true });
        throw err;
      }
      return { rec, parents: this.chain(m, parent) };
    });
    const dirs = this.dirOf(rec.id);
    if (this.driver === 'copy' && kind === 'active' && parents[0] !== undefined) {
      try {
        // one cp(1) per snapshot keeps owners, modes, xattrs, hardlinks, devices and times
        // (reflinks where the filesystem has them)
        await runTool('cp', ['-a', '--reflink=auto', '--', `${parents[0]}/.`, `${dirs.fs}/`], {
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (err) {
        await this.remove(key).catch(() => undefined);
        throw err;
      }
    }
    this.logger.debug('snapshot created', { key, kind, parent, id: rec.id });
    return snapshotMounts(this.driver, kind, dirs, parents);
  }

  /**
   * Makes a snapshot's `fs` directory where the Orlov allocator puts a new tree, not where the
   * last tree of the same number was. For a directory in a top directory (`snapshots/`, `chattr
   * +T`) ext4 starts its search for the emptiest block group at a hash of the new directory's
   * *name*; the files of a tree go into the group of their directory. Snapshot numbers start at
   * 1 in every new root, so `snapshots/1` of a root made right after another was removed landed
   * in the very group just freed, where every create first skips each inode deleted there in the
   * last minute or more (`recently_deleted`, ext4 without a journal): a pull after `rm -rf` of the previous root
   * spent most of its kernel time there. So `fs` is made under a random name in `snapshots/`
   * and renamed into its numbered directory (a rename keeps the inode and its group). A crash in
   * between leaves a `.new-…` directory, which {@link cleanup} removes like any unnamed one.
   */
  private async makeFs(fs: string): Promise<void> {
    const tmp = `${this.root}/snapshots/.new-${randomBytes(8).toString('hex')}`;
    // synchronous mkdir and rename (and in allocate): a container's create makes these few
    // directories, and each promise call is a thread-pool round trip
    mkdirSync(tmp, { mode: 0o755 });
    try {
      renameSync(tmp, fs);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Claims a fresh directory number with mkdir(2), which fails when another create took it;
   * numbers are never reused while `metadata.json` or a record names them.
   */
  private async allocate(m: Metadata): Promise<number> {
    const dir = `${this.root}/snapshots`;
    mkdirSync(dir, { recursive: true });
    let id = m.nextId;
    for (const r of m.snapshots.values()) id = Math.max(id, r.id + 1);
    for (const name of readdirSync(dir)) {
      if (/^[0-9]+$/.test(name)) id = Math.max(id, Number(name) + 1);
    }
    for (; ; id++) {
      try {
        mkdirSync(`${dir}/${id}`, { mode: 0o755 });
        return id;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  prepare(key: string, parent?: string, options: SnapshotOptions = {}): Promise<Mount[]> {
    return this.create('active', key, parent, options);
  }

  view(key: string, parent?: string, options: SnapshotOptions = {}): Promise<Mount[]> {
    return this.create('view', key, parent, options);
  }

  async mounts(key: string): Promise<Mount[]> {
    const m = await this.meta.lookup(key);
    const r = this.get(m, key);
    if (r.kind === 'committed')
      throw snapshotError('SNAPSHOT_INVALID_STATE', key, 'is committed; it has no mounts');
    return snapshotMounts(this.driver, r.kind, this.dirOf(r.id), this.chain(m, r.parent));
  }

  async commit(name: string, key: string, options: CommitOptions = {}): Promise<void> {
    const [r] = await this.commitAll([{ name, key, options }], options);
    if (r === 'exists') throw snapshotError('SNAPSHOT_EXISTS', name, 'already exists');
  }

  async commitAll(
    commits: readonly { name: string; key: string; options?: CommitOptions }[],
    options: { signal?: AbortSignal } = {},
  ): Promise<('committed' | 'exists')[]> {
    const checked = await Promise.all(
      commits.map(async ({ name, key, options: o = {} }) => {
        checkKey(name, 'name');
        const before = this.get(await this.meta.lookup(key), key);
        if (before.kind !== 'active')
          throw snapshotError(
            'SNAPSHOT_INVALID_STATE',
            key,
            `is ${before.kind}; only active snapshots commit`,
          );
        if (o.parent !== undefined) {
          if (this.driver !== 'overlay')
            throw snapshotError(
              'SNAPSHOT_INVALID_STATE',
              key,
              'commit with a parent needs the overlay driver',
            );
          if (before.parent !== undefined)
            throw snapshotError(
              'SNAPSHOT_INVALID_STATE',
              key,
              'has a parent already; cannot commit on another',
            );
        }
        const dirs = this.dirOf(before.id);
        await rm(dirs.work, { recursive: true, force: true });
        const usage = o.usage ?? (await treeUsage(dirs.fs, o.signal ?? options.signal));
        return { id: before.id, usage };
      }),
    );
    return this.meta.update(async (m) => {
      const out: ('committed' | 'exists')[] = [];
      let write = false;
      for (const [i, { name, key, options: o = {} }] of commits.entries()) {
        const { id, usage } = checked[i] as { id: number; usage: Usage };
        const { parent } = o;
        const r = this.get(m, key);
        if (r.kind !== 'active' || r.id !== id)
          throw snapshotError('SNAPSHOT_INVALID_STATE', key, 'changed while committing');
        if (m.snapshots.has(name)) {
          out.push('exists');
          continue;
        }
        if (parent !== undefined) {
          const p = this.get(m, parent);
          if (p.kind !== 'committed')
            throw snapshotError(
              'SNAPSHOT_INVALID_STATE',
              parent,
              `is ${p.kind}; only committed snapshots can be parents`,
            );
          if (r.parent !== undefined)
            throw snapshotError(
              'SNAPSHOT_INVALID_STATE',
              key,
              'has a parent already; cannot commit on another',
            );
        }
        m.snapshots.delete(key);
        m.snapshots.set(name, {
          ...r,
          ...(parent === undefined ? {} : { parent }),
          kind: 'committed',
          labels: { ...r.labels, ...o.labels },
          updated: isoTime(Date.now()),
          usage,
        });
        out.push('committed');
        write = true;
      }
      return { value: out, write };
    });
  }

  /** {@link remove} calls under way: beside others, trees go to the thread pool whole. */
  private removing = 0;

  async remove(key: string, options: { durable?: boolean; concurrent?: boolean } = {}): Promise<void> {
    this.removing++;
    try {
      await this.removeOne(key, options);
    } finally {
      this.removing--;
    }
  }

  private async removeOne(key: string, options: { durable?: boolean; concurrent?: boolean }): Promise<void> {
    const concurrent = options.concurrent === true || this.removing > 1;
    const m0 = await this.meta.lookup(key);
    this.get(m0, key);
    if (m0.files.has(key)) {
      // an active snapshot or view in its own record file: nothing can be its child
      const id = await this.meta.shared(async () => {
        const r = await this.meta.readRecord(key);
        if (!r || !(await this.meta.removeRecord(key, options.durable ?? true, concurrent)))
          throw snapshotError('SNAPSHOT_NOT_FOUND', key, 'not found');
        return r.id;
      });
      await removeTree(this.dirOf(id).base, concurrent ? 0 : REMOVE_TREE_SYNC_BUDGET, this.fsCalls);
      return;
    }
    const id = await this.meta.update(async (m) => {
      const r = this.get(m, key);
      for (const [child, c] of m.snapshots) {
        if (c.parent === key)
          throw snapshotError('SNAPSHOT_HAS_CHILDREN', key, `is the parent of ${JSON.stringify(child)}`);
      }
      m.snapshots.delete(key);
      return { value: r.id, write: true };
    });
    // metadata first: a crash here leaves an orphan directory for cleanup(), never a record
    // pointing at a half-removed tree
    await removeTree(this.dirOf(id).base, concurrent ? 0 : REMOVE_TREE_SYNC_BUDGET, this.fsCalls);
  }

  async stat(key: string): Promise<SnapshotInfo> {
    const m = await this.meta.lookup(key);
    return this.info(key, this.get(m, key));
  }

  async usage(key: string, options: { signal?: AbortSignal } = {}): Promise<Usage> {
    const r = this.get(await this.meta.lookup(key), key);
    if (r.kind === 'committed' && r.usage) return { ...r.usage };
    return treeUsage(this.dirOf(r.id).fs, options.signal);
  }

  async walk(): Promise<SnapshotInfo[]> {
    const m = await this.meta.read();
    return [...m.snapshots].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, r]) => this.info(k, r));
  }

  async cleanup(): Promise<number> {
    return this.meta.update(async (m) => {
      const global = new Set([...m.snapshots].filter(([k]) => !m.files.has(k)).map(([, r]) => r.id));
      const ids = new Set([...global, ...(await this.meta.cleanRecords(global))].map(String));
      let names: string[] = [];
      try {
        names = await readdir(`${this.root}/snapshots`);
      } catch {
        return { value: 0, write: false };
      }
      let n = 0;
      for (const name of names) {
        if (ids.has(name)) continue;
        await rm(`${this.root}/snapshots/${name}`, { recursive: true, force: true });
        n++;
      }
      return { value: n, write: false };
    });
  }
}
