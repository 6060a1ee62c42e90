/**
 * Leases keep work in progress safe from garbage collection (containerd's `leases`): a pull or
 * a build creates a lease, adds each blob (before writing it) and each snapshot key to it, and
 * deletes the lease when the result is tagged. A lease that is never deleted expires.
 *
 * On disk, one directory per lease, so no lock is needed: `<path>/<id>/lease.json` (written
 * into a temporary directory that is renamed into place, so a lease appears whole), and one
 * marker file per resource under `content/` (`sha256-<hex>`) and `snapshots/` (named by the
 * sha256 of the key, holding the key). Deleting renames the directory away first, so a
 * half-deleted lease is never read.
 */
import { mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, type Digest, isDigest, parseDigest } from '@berth/oci';
import { StoreErrorCode } from './errors.js';
import { isErrno, nodeCrypto, randomHex, syncDir, TEMP_PREFIX, writeFileAtomic } from './fs-util.js';
import { processStart, selfProcessStart } from './owner.js';

/** Something a lease protects: a content blob or a snapshot (by key or name). */
export type LeaseResource = { type: 'content'; digest: Digest } | { type: 'snapshot'; key: string };

/** A lease and what it protects. */
export interface Lease {
  /** The lease ID. */
  id: string;
  /** When it was created. */
  createdAt: Date;
  /** When it stops protecting anything (garbage collection then deletes it). */
  expiresAt?: Date;
  /** Free-form labels. */
  labels: Record<string, string>;
  /** What it protects. */
  resources: LeaseResource[];
  /** With `untilExit`: the creating process; the lease ends when it is gone. */
  owner?: { pid: number; start: number };
}

/** Options for {@link LeaseManager.create}. */
export interface CreateLeaseOptions {
  /** The ID (`[A-Za-z0-9][A-Za-z0-9._-]{0,127}`); random when omitted. */
  id?: string;
  /** Lifetime in milliseconds; without it the lease lasts until deleted. */
  expiresIn?: number;
  /** Free-form labels. */
  labels?: Record<string, string>;
  /**
   * End the lease when this process exits, even by `kill -9` (a daemonless `berth pull`): it
   * then counts as expired. Checked by pid and process start time.
   */
  untilExit?: boolean;
  /** Aborts. */
  signal?: AbortSignal;
}

/** Creates, reads and deletes leases. Safe across processes. */
export interface LeaseManager {
  /** Creates a lease. Throws `LEASE_EXISTS` or `LEASE_INVALID`. */
  create(opts?: CreateLeaseOptions): Promise<Lease>;
  /** One lease with its resources. Throws `LEASE_NOT_FOUND`. */
  get(id: string, opts?: { signal?: AbortSignal }): Promise<Lease>;
  /** Every lease, expired ones included. */
  list(opts?: { signal?: AbortSignal }): Promise<Lease[]>;
  /** Deletes a lease (its resources become collectable). Throws `LEASE_NOT_FOUND`. */
  delete(id: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Adds a resource. Throws `LEASE_NOT_FOUND` or `LEASE_INVALID`. */
  addResource(id: string, resource: LeaseResource, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Removes a resource (absent is fine). Throws `LEASE_NOT_FOUND`. */
  deleteResource(id: string, resource: LeaseResource, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Deletes leases expired at `now` (default: now) or whose `untilExit` process is gone, and the leftovers of interrupted creates and
   * deletes. Returns the deleted lease IDs.
   */
  removeExpired(opts?: { now?: Date; signal?: AbortSignal }): Promise<string[]>;
}

/** Options for {@link createLeaseManager}. */
export interface LeaseManagerOptions {
  /** The leases directory (`<root>/leases`); created when missing. */
  path: string;
}

interface LeaseFile {
  version: 1;
  id: string;
  createdAt: string;
  expiresAt?: string;
  labels: Record<string, string>;
  owner?: { pid: number; start: number };
}

const idRe = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_KEY = 4096;

function invalid(what: string, why: string): BerthError<'LEASE_INVALID'> {
  return new BerthError(StoreErrorCode.LEASE_INVALID, `lease ${JSON.stringify(what.slice(0, 200))}: ${why}`, {
    input: { field: 'lease' },
  });
}

function leaseNotFound(id: string, cause?: unknown): BerthError<'LEASE_NOT_FOUND'> {
  return new BerthError(
    StoreErrorCode.LEASE_NOT_FOUND,
    `lease ${JSON.stringify(id.slice(0, 200))}: not found`,
    {
      input: { field: 'lease' },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || !idRe.test(id)) throw invalid(String(id), `id must match ${idRe.source}`);
  return id;
}

function markerName(r: LeaseResource): { dir: 'content' | 'snapshots'; name: string; body: string } {
  if (r.type === 'content') {
    const d = parseDigest(r.digest);
    return { dir: 'content', name: d.replace(':', '-'), body: '' };
  }
  if (r.type === 'snapshot') {
    if (typeof r.key !== 'string' || r.key.length === 0 || r.key.length > MAX_KEY || r.key.includes('\0')) {
      throw invalid(String(r.key), 'snapshot key must be 1 to 4096 characters without NUL');
    }
    return {
      dir: 'snapshots',
      name: nodeCrypto().createHash('sha256').update(r.key).digest('hex'),
      body: r.key,
    };
  }
  throw invalid(String((r as { type?: unknown }).type), 'resource type must be content or snapshot');
}

/**
 * Tells whether a lease no longer protects anything: its expiry has passed, or (with
 * `untilExit`) its creating process is gone.
 */
export async function leaseExpired(lease: Lease, now: Date = new Date()): Promise<boolean> {
  if (lease.expiresAt !== undefined && lease.expiresAt.getTime() <= now.getTime()) return true;
  if (lease.owner === undefined) return false;
  if (lease.owner.pid === process.pid) return false;
  const start = await processStart(lease.owner.pid);
  return start === -1 || (lease.owner.start !== -1 && start !== lease.owner.start);
}

/**
 * Opens the lease manager.
 *
 * @example
 * ```ts
 * const leases = await createLeaseManager({ path: '/var/lib/berth/leases' });
 * const lease = await leases.create({ expiresIn: 3_600_000 });
 * // … content.writer({ desc, lease: lease.id }) …, images.tag(…)
 * await leases.delete(lease.id);
 * ```
 */
export async function createLeaseManager(opts: LeaseManagerOptions): Promise<LeaseManager> {
  const root = opts.path;
  mkdirSync(root, { recursive: true });

  async function readLease(id: string, signal?: AbortSignal): Promise<Lease> {
    signal?.throwIfAborted();
    const dir = join(root, id);
    let f: LeaseFile;
    try {
      f = JSON.parse(await readFile(join(dir, 'lease.json'), 'utf8')) as LeaseFile;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw leaseNotFound(id, err);
      throw new BerthError(StoreErrorCode.STORE_CORRUPT, `lease ${id}: lease.json unreadable`, {
        input: { field: join(dir, 'lease.json') },
        cause: err,
      });
    }
    const resources: LeaseResource[] = [];
    for (const name of await readdir(join(dir, 'content')).catch(() => [] as string[])) {
      const digest = name.replace('-', ':');
      if (isDigest(digest)) resources.push({ type: 'content', digest });
    }
    for (const name of await readdir(join(dir, 'snapshots')).catch(() => [] as string[])) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const key = await readFile(join(dir, 'snapshots', name), 'utf8').catch(() => undefined);
      if (key !== undefined && key.length > 0) resources.push({ type: 'snapshot', key });
    }
    const lease: Lease = {
      id: f.id,
      createdAt: new Date(f.createdAt),
      labels: f.labels ?? {},
      resources,
    };
    if (f.expiresAt !== undefined) lease.expiresAt = new Date(f.expiresAt);
    if (f.owner !== undefined) lease.owner = f.owner;
    return lease;
  }

  async function create(o: CreateLeaseOptions = {}): Promise<Lease> {
    o.signal?.throwIfAborted();
    const id = o.id === undefined ? `berth-${Date.now().toString(36)}-${randomHex(6)}` : checkId(o.id);
    if (o.expiresIn !== undefined && (!Number.isFinite(o.expiresIn) || o.expiresIn < 0)) {
      throw invalid(id, `expiresIn must be a non-negative number of ms, got ${o.expiresIn}`);
    }
    const labels = o.labels ?? {};
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string') throw invalid(id, `label ${JSON.stringify(k)} must be a string`);
    }
    const now = new Date();
    const f: LeaseFile = { version: 1, id, createdAt: now.toISOString(), labels };
    if (o.expiresIn !== undefined) f.expiresAt = new Date(now.getTime() + o.expiresIn).toISOString();
    if (o.untilExit === true) f.owner = { pid: process.pid, start: selfProcessStart() };
    const tmp = join(root, `${TEMP_PREFIX}${id}-${process.pid}-${randomHex(6)}`);
    await mkdir(join(tmp, 'content'), { recursive: true });
    await mkdir(join(tmp, 'snapshots'));
    try {
      await writeFileAtomic(join(tmp, 'lease.json'), JSON.stringify(f));
      await rename(tmp, join(root, id));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (isErrno(err, 'ENOTEMPTY', 'EEXIST', 'EISDIR')) {
        throw new BerthError(StoreErrorCode.LEASE_EXISTS, `lease ${id}: already exists`, {
          input: { field: 'lease' },
        });
      }
      throw err;
    }
    await syncDir(root);
    return readLease(id);
  }

  async function del(id: string, o: { signal?: AbortSignal } = {}): Promise<void> {
    o.signal?.throwIfAborted();
    checkId(id);
    const gone = join(root, `.deleting-${id}-${process.pid}-${randomHex(6)}`);
    try {
      await rename(join(root, id), gone);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw leaseNotFound(id, err);
      throw err;
    }
    await rm(gone, { recursive: true, force: true });
  }

  async function addResource(id: string, r: LeaseResource, o: { signal?: AbortSignal } = {}): Promise<void> {
    o.signal?.throwIfAborted();
    checkId(id);
    const m = markerName(r);
    try {
      await writeFile(join(root, id, m.dir, m.name), m.body);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw leaseNotFound(id, err);
      throw err;
    }
  }

  async function deleteResource(
    id: string,
    r: LeaseResource,
    o: { signal?: AbortSignal } = {},
  ): Promise<void> {
    o.signal?.throwIfAborted();
    checkId(id);
    const m = markerName(r);
    try {
      await unlink(join(root, id, m.dir, m.name));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      await readLease(id);
    }
  }

  async function list(o: { signal?: AbortSignal } = {}): Promise<Lease[]> {
    const out: Lease[] = [];
    for (const name of await readdir(root)) {
      if (!idRe.test(name)) continue;
      try {
        out.push(await readLease(name, o.signal));
      } catch (err) {
        // Deleted meanwhile: not a lease any more.
        if (!(err instanceof BerthError && err.code === StoreErrorCode.LEASE_NOT_FOUND)) throw err;
      }
    }
    return out;
  }

  async function removeExpired(o: { now?: Date; signal?: AbortSignal } = {}): Promise<string[]> {
    const now = (o.now ?? new Date()).getTime();
    const removed: string[] = [];
    for (const lease of await list(o)) {
      if (await leaseExpired(lease, new Date(now))) {
        try {
          await del(lease.id, o);
          removed.push(lease.id);
        } catch (err) {
          if (!(err instanceof BerthError && err.code === StoreErrorCode.LEASE_NOT_FOUND)) throw err;
        }
      }
    }
    // Leftovers of creates and deletes interrupted by a crash (their pid is gone).
    for (const name of await readdir(root)) {
      if (!name.startsWith(TEMP_PREFIX) && !name.startsWith('.deleting-')) continue;
      const pid = /-(\d+)-[a-f0-9]{12}$/.exec(name)?.[1];
      if (pid !== undefined && (Number(pid) === process.pid || (await processStart(Number(pid))) !== -1))
        continue;
      await rm(join(root, name), { recursive: true, force: true });
    }
    return removed;
  }

  return {
    create,
    get: async (id, o = {}) => readLease(checkId(id), o.signal),
    list,
    delete: del,
    addResource,
    deleteResource,
    removeExpired,
  };
}
