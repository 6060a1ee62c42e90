/**
 * Container records on disk (DESIGN.md, State on disk): `<root>/containers/<id>/config.v2.json`
 * (docker's file name; `version` 1), written into its spare → fsync → exchange → fsync dir, and the name
 * index `<root>/container-names/<name>` (a file holding the ID, created with O_EXCL so two
 * processes can never take one name). Lookup is docker's: full ID, then name, then a unique ID
 * prefix.
 */
import {
  closeSync,
  constants,
  fsync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, REMOVE_TREE_SYNC_BUDGET, randomBytes, removeTree } from '@berth/oci';
import { lockDir, lockFile, renameExchange, syscallFsCalls } from '@berth/runtime';
import { ContainerErrorCode, noSuchContainer } from './errors.js';
import { NAME_RE, randomName } from './names.js';
import type { ContainerRecord } from './types.js';

/** The version of config.v2.json records. */
export const RECORD_VERSION = 1;

const ID_RE = /^[0-9a-f]{64}$/;

/**
 * Write-temp, fsync, rename, fsync the directory. `durable: false` leaves out both fsyncs: still
 * atomic for every reader and against a killed process (the rename), not against power loss;
 * for state that does not outlive the machine's boot (a `--rm` container's record).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
  durable = true,
  pool = false,
): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  if (pool) {
    // beside many others (`rm -f` of many): every step on the thread pool, where the renames,
    // which wait for ext4's journal (and flush the new file's blocks), overlap
    const h = await open(tmp, 'w', mode);
    try {
      await h.writeFile(data);
      if (durable) await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, path);
  } else {
    await writeFd(openSync(tmp, 'w', mode), data, durable);
    renameSync(tmp, path);
  }
  if (durable) await syncDir(join(path, '..'));
}

/**
 * A container record's write: the new text goes into the record's spare file
 * (`config.v2.json.spare`, the record as it was before the last write), which is fsynced and then
 * exchanged with the record (renameat2 RENAME_EXCHANGE), then the directory is fsynced. Readers
 * see the old record or the new one, a killed process or a power loss leaves one of them whole
 * (the spare is never read), and, unlike write-temp-and-rename, no inode is allocated or freed per
 * write: on an ext4 without a journal each new file costs a scan past every inode freed nearby in
 * the last minute (0.1-1.5 ms after an `rm -f` of many), and each freed one adds to that list.
 * The spare is written in place (no O_TRUNC: a record fits its first block, whose discard a
 * truncation would wait for). The first write of a record, and a file system that cannot exchange,
 * rename the spare instead. Writers hold the container's lock: one spare per record.
 */
export async function writeRecordFile(path: string, data: string, durable: boolean): Promise<void> {
  const spare = `${path}.spare`;
  const bytes = Buffer.from(data);
  const fd = openSync(spare, constants.O_WRONLY | constants.O_CREAT, 0o600);
  try {
    writeFileSync(fd, bytes);
    ftruncateSync(fd, bytes.length);
    if (durable) await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
  if (!renameExchange(spare, path)) renameSync(spare, path);
  if (durable) await syncDir(join(path, '..'));
}

/** fsync(2) of a directory: the names created, renamed or removed in it are on disk. */
export async function syncDir(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The small steps of a record's write (open, write, close, rename) are synchronous system calls:
 * each promise step is a round trip through the thread pool, ~0.1-0.3 ms of CPU against a few
 * microseconds (a `run --rm` made ~70 of them). Only the fsyncs, which wait for the disk, go to
 * the thread pool, so berthd's event loop never waits on a flush.
 */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Writes all of `data` to `fd`, fsyncs it when `durable`, and closes it either way. */
async function writeFd(fd: number, data: string | Uint8Array, durable: boolean): Promise<void> {
  try {
    writeFileSync(fd, data);
    if (durable) await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a record's changes are fsynced. A `--rm` container's record dies with it: it is never
 * wanted after a reboot (docker removes such containers at daemon start too), so its writes skip
 * the fsyncs (atomic rename still, so a killed `berth` never leaves half a file; `list` skips a
 * record torn by a power loss).
 */
export function durableRecord(rec: Pick<ContainerRecord, 'HostConfig'>): boolean {
  return rec.HostConfig.AutoRemove !== true;
}

/** The record files of one engine root. */
export class RecordStore {
  /** `<root>/containers`. */
  readonly dir: string;
  /** `<root>/container-names`. */
  readonly namesDir: string;

  constructor(root: string) {
    this.dir = join(root, 'containers');
    this.namesDir = join(root, 'container-names');
  }

  /** Creates the directories; true when this call made `containers/`. */
  async init(): Promise<boolean> {
    const made = mkdirSync(this.dir, { recursive: true, mode: 0o711 }) !== undefined;
    mkdirSync(this.namesDir, { recursive: true, mode: 0o700 });
    return made;
  }

  /** A container's directory. */
  containerDir(id: string): string {
    return join(this.dir, id);
  }

  /** Reads a record, or undefined when there is none (removed, or still being created). */
  async read(id: string): Promise<ContainerRecord | undefined> {
    const file = join(this.containerDir(id), 'config.v2.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
      )
        return undefined;
      throw err;
    }
    let rec: ContainerRecord;
    try {
      rec = JSON.parse(text) as ContainerRecord;
    } catch (cause) {
      throw new BerthError(
        ContainerErrorCode.CONTAINER_RECORD_INVALID,
        `container record ${file}: not JSON`,
        {
          input: { file, line: 1 },
          cause,
        },
      );
    }
    if (typeof rec !== 'object' || rec === null || rec.version !== RECORD_VERSION || rec.Id !== id)
      throw new BerthError(
        ContainerErrorCode.CONTAINER_RECORD_INVALID,
        `container record ${file}: not a berth container record version ${RECORD_VERSION}`,
        { input: { file, line: 1 } },
      );
    return rec;
  }

  /**
   * Writes a record ({@link writeRecordFile}: atomically; durably unless it is a `--rm`
   * container's). The caller holds the container's lock. Only the fsyncs go to the thread pool.
   */
  async write(rec: ContainerRecord): Promise<void> {
    await writeRecordFile(
      join(this.containerDir(rec.Id), 'config.v2.json'),
      `${JSON.stringify(rec)}\n`,
      durableRecord(rec),
    );
  }

  /** The listing under way, which calls made meanwhile share. */
  private listing: Promise<string[]> | undefined;

  /**
   * IDs of every container directory. Calls made while a listing is under way share it: an
   * `rm -f` of many resolves each ID prefix at once, one readdir (and one filter) instead of one
   * per argument.
   */
  async ids(): Promise<string[]> {
    this.listing ??= readdir(this.dir)
      .then((names) => names.filter((n) => ID_RE.test(n)))
      .finally(() => {
        this.listing = undefined;
      });
    return [...(await this.listing)];
  }

  /** Every readable record (containers being created or removed half-way are skipped). */
  async list(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const id of await this.ids()) {
      const rec = await this.read(id).catch(() => undefined);
      if (rec) out.push(rec);
    }
    return out;
  }

  /**
   * Resolves a full ID, a name (with or without `/`) or a unique ID prefix, as docker does.
   * @throws BerthError CONTAINER_NOT_FOUND (`No such container: x`), CONTAINER_AMBIGUOUS
   */
  async resolve(ref: string): Promise<string> {
    if (ref === '') throw noSuchContainer(ref);
    if (ID_RE.test(ref) && (await this.exists(ref))) return ref;
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    if (NAME_RE.test(ref)) {
      const id = await this.nameOwner(name);
      if (id !== undefined && (await this.exists(id))) return id;
    }
    if (/^[0-9a-f]+$/.test(ref)) {
      const hits = (await this.ids()).filter((i) => i.startsWith(ref));
      if (hits.length === 1) return hits[0] as string;
      if (hits.length > 1)
        throw new BerthError(
          ContainerErrorCode.CONTAINER_AMBIGUOUS,
          `multiple IDs found with provided prefix: ${ref}`,
          { input: { ref } },
        );
    }
    throw noSuchContainer(ref);
  }

  private async exists(id: string): Promise<boolean> {
    try {
      statSync(join(this.containerDir(id), 'config.v2.json'));
      return true;
    } catch {
      return false;
    }
  }

  /** The ID a name points to, if any. */
  async nameOwner(name: string): Promise<string | undefined> {
    try {
      const id = readFileSync(join(this.namesDir, name), 'utf8').trim();
      return ID_RE.test(id) ? id : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Reserves `name` for `id` (O_EXCL). A name whose owner is gone (a crash between reserving and
   * writing the record, or between removing the directory and the name) is taken over under the
   * names lock. Without `name`, random names are tried until one is free.
   * @throws BerthError CONTAINER_NAME_CONFLICT, INVALID_OPTION (a bad name)
   */
  async reserveName(id: string, name?: string, durable = true): Promise<string> {
    if (name !== undefined) {
      const n = name.startsWith('/') ? name.slice(1) : name;
      if (!NAME_RE.test(name))
        throw new BerthError(
          ContainerErrorCode.INVALID_OPTION,
          `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
          { input: { field: 'name' } },
        );
      if (await this.tryReserve(id, n, durable)) return n;
      const owner = (await this.nameOwner(n)) ?? '';
      throw new BerthError(
        ContainerErrorCode.CONTAINER_NAME_CONFLICT,
        `Conflict. The container name "/${n}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`,
        { input: { field: 'name' } },
      );
    }
    for (let attempt = 0; ; attempt++) {
      const n = randomName(attempt > 2 ? attempt : 0);
      if (await this.tryReserve(id, n, durable)) return n;
    }
  }

  private async tryReserve(id: string, name: string, durable: boolean): Promise<boolean> {
    const path = join(this.namesDir, name);
    for (let i = 0; i < 2; i++) {
      try {
        await writeNewFile(path, id, durable, { flag: 'wx', mode: 0o600 });
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (i === 0 && !(await this.takeOverStale(name))) return false;
    }
    return false;
  }

  /** Removes a name whose container is gone; true when it did. */
  private async takeOverStale(name: string): Promise<boolean> {
    const lock = await lockFile(join(this.namesDir, '.lock'));
    try {
      const owner = await this.nameOwner(name);
      if (owner === undefined) {
        // unreadable or empty: a writer crashed between create and write
        const st = await stat(join(this.namesDir, name)).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs < 10_000) return false;
      } else {
        const dir = this.containerDir(owner);
        const st = await stat(dir).catch(() => undefined);
        if (st) {
          // the directory exists: a creator may be at work; its lock tells
          const l = await lockDir(dir).catch(() => undefined);
          await l?.release();
          const rec = await this.read(owner).catch(() => undefined);
          if (rec && rec.Name === `/${name}`) return false;
          if (!rec && (await stat(dir).catch(() => undefined))) return false;
        }
      }
      await unlink(join(this.namesDir, name)).catch(() => {});
      return true;
    } finally {
      await lock.release();
    }
  }

  /** Drops `name` if it still points to `id`. */
  async releaseName(id: string, name: string, options: { concurrent?: boolean } = {}): Promise<void> {
    const n = name.startsWith('/') ? name.slice(1) : name;
    if ((await this.nameOwner(n)) !== id) return;
    // alone, one small unlink is synchronous, as the records' steps are (no thread-pool round
    // trip); beside many others (`rm -f` of many) on the pool, where they overlap
    if (options.concurrent) {
      await unlink(join(this.namesDir, n)).catch(() => {});
      return;
    }
    try {
      unlinkSync(join(this.namesDir, n));
    } catch {
      // gone already
    }
  }

  /**
   * Removes a container's directory. `alone`: no other removal is under way in this process.
   */
  async removeDir(id: string, alone = true): Promise<void> {
    // a few small files (the writable layer is the snapshotter's): synchronous when alone, as
    // each async step of a recursive rm is a thread-pool round trip; beside other removals
    // (`rm -f` of many) on the pool, where their unlinks and rmdirs, which can wait for the disk
    // (ext4 `discard` trims freed blocks synchronously), overlap instead of queueing here
    // (a racing `start` or berth-shim's exit hook may still add a record's temporary file: the
    // walk then hands over to fs.promises.rm, whose retries list the directory again)
    // the record last: a removal killed half-way leaves the container listed (`Removal In
    // Progress`) for the next `rm -f`, never a directory no command sees
    await removeTree(this.containerDir(id), alone ? REMOVE_TREE_SYNC_BUDGET : 0, syscallFsCalls, {
      last: 'config.v2.json',
    });
  }
}

/**
 * Writes `data` to a file no other process reads yet (a container's hosts file before its record
 * names it; a name reservation, created with `flag: 'wx'`); fsynced when `durable`.
 */
export async function writeNewFile(
  path: string,
  data: string,
  durable: boolean,
  o: { flag?: 'w' | 'wx'; mode?: number } = {},
): Promise<void> {
  await writeFd(openSync(path, o.flag ?? 'w', o.mode ?? 0o644), data, durable);
}
