/**
 * The content store: an OCI image layout (image-spec `image-layout.md`) at `<path>`, with
 * berth's resumable ingests beside the blobs.
 *
 * Vocabulary (containerd's `core/content`): the **Ingester** side opens a {@link ContentWriter}
 * for an **ingest** named by `ref`; bytes written there live in `ingest/<sha256(ref)>/data` and
 * are invisible to readers. `commit(size, expected)` verifies size and digest, fsyncs, and
 * links the file into `blobs/<alg>/<hex>` in one atomic step, so a blob never appears
 * half-written. The **Provider** side reads committed blobs by digest (`readerAt`,
 * `createReadStream`, `readBlob`), and `info`, `walk` and `delete` manage them.
 *
 * ```text
 * writer({ ref, desc }) → write()* → commit(size, digest) → blob visible (info/read/walk)
 *                                  ↘ abort()             → nothing left
 * (process dies)        → writer({ ref, desc }) again resumes at `offset`
 * ```
 */
import {
  existsSync,
  createReadStream as fsCreateReadStream,
  mkdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import {
  chmod,
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rm,
  stat,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  BerthError,
  type ContentSink,
  type ContentWriter,
  createDigester,
  type Descriptor,
  type Digest,
  DigestErrorCode,
  type Digester,
  digestOf,
  type FileLocker,
  isDigest,
  type Logger,
  parseDigest,
  silentLogger,
  splitDigest,
} from '@berth/oci';
import { StoreErrorCode } from './errors.js';
import { isErrno, randomHex, syncDir, TEMP_PREFIX, writeFileAtomic, writeFileExclusive } from './fs-util.js';
import { lockfileLocker, withLock } from './lock.js';
import { type Owner, ownerAlive, parseOwner, processStart, selfProcessStart } from './owner.js';

/** What the store knows about a committed blob. */
export interface Info {
  /** The blob's digest. */
  digest: Digest;
  /** Its size in bytes. */
  size: number;
}

/** Random access to one blob (containerd's `ReaderAt`). Close it when done. */
export interface ReaderAt {
  /** The blob's size. */
  readonly size: number;
  /** Reads up to `length` bytes at `position`; fewer at the end of the blob. */
  readAt(position: number, length: number): Promise<Buffer>;
  /** Releases the file handle. */
  close(): Promise<void>;
}

/** The state of an unfinished ingest. */
export interface IngestStatus {
  /** The ref it was opened with. */
  ref: string;
  /** The blob it is expected to become, when known. */
  expected?: Descriptor;
  /** Bytes held. */
  offset: number;
  /** When it was started. */
  startedAt: Date;
  /** Last write. */
  updatedAt: Date;
  /** True while a live writer (this or another process) holds it. */
  active: boolean;
}

/** What {@link ContentStore.repair} found and did. */
export interface RepairReport {
  /** Temporary files of interrupted atomic writes that were removed. */
  removedTemp: string[];
  /** Ingests no live writer holds (remove them with `cleanIngest`). */
  staleIngests: IngestStatus[];
  /** Files in `blobs/` that are not named by a valid digest (left alone). */
  foreign: string[];
  /** With `verify`: blobs whose content does not match their name (removed). */
  corrupt: Digest[];
}

/** Options for {@link ContentStore.writer}. */
export interface WriterOptions {
  /** Names the ingest; resumable across processes. Defaults to the descriptor's digest. */
  ref?: string;
  /** The blob to be written: its digest and size are checked again at commit. */
  desc: Descriptor;
  /**
   * A lease ID. The blob is added to the lease before any byte is written, so garbage
   * collection cannot sweep it between commit and tag (containerd's leased ingest).
   */
  lease?: string;
  /** Aborts opening. */
  signal?: AbortSignal;
}

/**
 * The content store: a {@link ContentSink} (Ingester) plus the Provider and management calls.
 * Safe for concurrent use by many writers in this and other processes.
 */
export interface ContentStore extends ContentSink {
  /** The OCI image layout directory (`oci-layout`, `index.json`, `blobs/`, `ingest/`). */
  readonly path: string;
  /** The blob's size, or undefined when absent. Throws `INVALID_DIGEST` for a malformed digest. */
  info(digest: Digest, opts?: { signal?: AbortSignal }): Promise<Info | undefined>;
  /**
   * Opens a writer (see the module doc). A ref already held by a live writer — another process,
   * or this store instance — gets a private, non-resumable ingest instead, so two writers of the
   * same blob both succeed and the store ends with one blob.
   */
  writer(opts: WriterOptions): Promise<ContentWriter>;
  /** Opens a blob for random access. Throws `BLOB_NOT_FOUND`. */
  readerAt(digest: Digest, opts?: { signal?: AbortSignal }): Promise<ReaderAt>;
  /**
   * A stream of a blob (optionally a byte range, `end` inclusive; `highWaterMark`: bytes per read,
   * default 64 KiB). Throws `BLOB_NOT_FOUND`.
   */
  createReadStream(
    digest: Digest,
    opts?: { start?: number; end?: number; highWaterMark?: number; signal?: AbortSignal },
  ): Promise<Readable>;
  /**
   * Reads a whole blob into memory and verifies it against its digest (for manifests, indexes
   * and configs). Throws `BLOB_NOT_FOUND`, or `STORE_CORRUPT` when the blob is larger than
   * `maxSize` (default 16 MiB) or its bytes do not match the digest.
   */
  readBlob(digest: Digest, opts?: { maxSize?: number; signal?: AbortSignal }): Promise<Buffer>;
  /** Every committed blob, in no particular order. */
  walk(opts?: { signal?: AbortSignal }): AsyncIterable<Info>;
  /** Removes a blob. Throws `BLOB_NOT_FOUND`. Garbage collection is the usual caller. */
  delete(digest: Digest, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Unfinished ingests, active or abandoned. */
  listIngests(opts?: { signal?: AbortSignal }): Promise<IngestStatus[]>;
  /** Drops an ingest that no live writer holds. Throws `INGEST_INVALID` if one does. */
  abortIngest(ref: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Removes abandoned ingests last written more than `olderThan` ms ago (default 0: all
   * abandoned ones). Returns their statuses.
   */
  cleanIngest(opts?: { olderThan?: number; signal?: AbortSignal }): Promise<IngestStatus[]>;
  /**
   * Reports and tidies what a crash can leave: temporary files (removed), abandoned ingests
   * (reported), foreign files in `blobs/` (reported); with `verify`, rehashes every blob and
   * removes the ones that do not match their name.
   */
  repair(opts?: { verify?: boolean; signal?: AbortSignal }): Promise<RepairReport>;
}

/** Options for {@link createContentStore}. */
export interface ContentStoreOptions {
  /** The image layout directory; created when missing. */
  path: string;
  /** Called with the lease and digest before a leased writer writes (see {@link WriterOptions.lease}). */
  addLeaseResource?: (lease: string, digest: Digest, opts: { signal?: AbortSignal }) => Promise<void>;
  /**
   * The cross-process lock around ingest takeovers (`ingest/lock`). Default: proper-lockfile (pure
   * JS; a holder killed with `kill -9` blocks others for up to 10 s). `@berth/engine` passes
   * `@berth/runtime`'s flock(2) locker. Every process using this directory must use the same kind.
   */
  locker?: FileLocker;
  /** Structured logger; silent by default. */
  logger?: Logger;
  /** Aborts creation. */
  signal?: AbortSignal;
}

/** `oci-layout` file content (image-spec `image-layout.md`). */
export const OCI_LAYOUT = '{"imageLayoutVersion":"1.0.0"}';
/** The empty `index.json` of a new layout. */
export const EMPTY_INDEX =
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}';

const MAX_REF_LENGTH = 1024;
const DEFAULT_MAX_BLOB_READ = 16 * 1024 * 1024;
/** Blobs up to this size are read with one synchronous read (see readBlob). */
const SYNC_READ_MAX = 256 * 1024;

interface IngestMeta {
  version: 1;
  ref: string;
  desc: Descriptor;
  startedAt: string;
}

function notFound(digest: string, cause?: unknown): BerthError<'BLOB_NOT_FOUND'> {
  return new BerthError(StoreErrorCode.BLOB_NOT_FOUND, `content ${digest}: not found`, {
    input: { field: digest },
    ...(cause === undefined ? {} : { cause }),
  });
}

function ingestInvalid(ref: string, why: string): BerthError<'INGEST_INVALID'> {
  return new BerthError(StoreErrorCode.INGEST_INVALID, `ingest ${JSON.stringify(ref)}: ${why}`, {
    input: { ref },
  });
}

function checkRef(ref: unknown): string {
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > MAX_REF_LENGTH || ref.includes('\0')) {
    throw ingestInvalid(
      String(ref).slice(0, 200),
      `ref must be 1 to ${MAX_REF_LENGTH} characters without NUL`,
    );
  }
  return ref;
}

function checkDesc(desc: Descriptor): Descriptor {
  if (typeof desc !== 'object' || desc === null) throw ingestInvalid('', 'descriptor missing');
  const digest = parseDigest(desc.digest, { field: 'desc.digest' });
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw new BerthError(DigestErrorCode.SIZE_MISMATCH, `blob ${digest}: invalid size ${String(desc.size)}`, {
      input: { field: 'desc.size' },
    });
  }
  return desc;
}

function sizeMismatch(digest: Digest, expected: number, got: number): BerthError<'SIZE_MISMATCH'> {
  return new BerthError(
    DigestErrorCode.SIZE_MISMATCH,
    `blob ${digest}: size mismatch (expected ${expected} bytes, got ${got})`,
  );
}

async function hashFile(
  path: string,
  algorithm: 'sha256' | 'sha512',
  signal?: AbortSignal,
): Promise<Digester> {
  const d = createDigester({ algorithm });
  const stream = fsCreateReadStream(path, signal === undefined ? {} : { signal });
  for await (const chunk of stream) d.update(chunk as Buffer);
  return d;
}

/**
 * Opens (creating when missing) a content store at `opts.path`. The layout files are created
 * with create-if-absent semantics, so concurrent first opens never clobber each other.
 *
 * @example
 * ```ts
 * const content = await createContentStore({ path: '/var/lib/berth/content' });
 * const w = await content.writer({ desc });
 * await w.write(bytes);
 * await w.commit(desc.size, desc.digest);
 * ```
 */
export async function createContentStore(opts: ContentStoreOptions): Promise<ContentStore> {
  const root = opts.path;
  const signal = opts.signal;
  const logger = opts.logger ?? silentLogger;
  const locker = opts.locker ?? lockfileLocker;
  signal?.throwIfAborted();
  // Synchronous mkdirs and checks: every command opens the store, and each promise call is a
  // thread-pool round trip (~0.1 ms of CPU against a few microseconds).
  mkdirSync(join(root, 'blobs', 'sha256'), { recursive: true });
  mkdirSync(join(root, 'ingest'), { recursive: true });
  // Create-if-absent (link(2)), so two first opens never clobber an index another just wrote.
  await Promise.all(
    (
      [
        ['oci-layout', OCI_LAYOUT],
        ['index.json', EMPTY_INDEX],
      ] as const
    ).map(async ([name, text]) => {
      if (!existsSync(join(root, name))) await writeFileExclusive(join(root, name), text, { signal });
    }),
  );

  // this store instance's ID, drawn when it first claims an ingest
  let instanceId: string | undefined;
  const instance = (): string => (instanceId ??= randomHex(8));
  const active = new Set<string>();
  let privateCounter = 0;
  const ingestLock = join(root, 'ingest', '.lock');

  const blobPath = (digest: Digest): string => {
    const { algorithm, encoded } = splitDigest(digest);
    return join(root, 'blobs', algorithm, encoded);
  };
  const ingestDir = (ref: string): string => join(root, 'ingest', digestOf(ref).slice('sha256:'.length));

  async function info(digest: Digest, o: { signal?: AbortSignal } = {}): Promise<Info | undefined> {
    o.signal?.throwIfAborted();
    const d = parseDigest(digest);
    try {
      const st = statSync(blobPath(d));
      if (!st.isFile()) return undefined;
      return { digest: d, size: st.size };
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw err;
    }
  }

  async function readOwner(dir: string): Promise<Owner | undefined> {
    try {
      return parseOwner(await readFile(join(dir, 'owner'), 'utf8'));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async function isHeld(dir: string, hash: string): Promise<boolean> {
    const owner = await readOwner(dir);
    if (owner === undefined) return false;
    return ownerAlive(owner, { instance: instance(), activeHere: active.has(hash) });
  }

  /** Claims the ingest dir for this instance. False when a live writer holds it. */
  async function claim(dir: string, hash: string, s?: AbortSignal): Promise<boolean> {
    if (active.has(hash)) return false;
    const me: Owner = { pid: process.pid, start: selfProcessStart(), instance: instance() };
    const text = JSON.stringify(me);
    if (await writeFileExclusive(join(dir, 'owner'), text, { signal: s })) return true;
    // Someone owned it: take it over only if that owner is gone, under the ingest lock so two
    // processes cannot both take over the same abandoned ingest.
    return withLock(
      locker,
      ingestLock,
      async () => {
        if (await isHeld(dir, hash)) return false;
        await writeFileAtomic(join(dir, 'owner'), text, { signal: s });
        return true;
      },
      { signal: s },
    );
  }

  async function readMeta(dir: string): Promise<IngestMeta | undefined> {
    try {
      const m = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as IngestMeta;
      if (m.version !== 1 || typeof m.ref !== 'string' || typeof m.desc !== 'object' || m.desc === null)
        return undefined;
      if (!isDigest(m.desc.digest) || !Number.isSafeInteger(m.desc.size)) return undefined;
      return m;
    } catch {
      return undefined;
    }
  }

  async function writer(w: WriterOptions): Promise<ContentWriter> {
    w.signal?.throwIfAborted();
    const desc = checkDesc(w.desc);
    let ref = checkRef(w.ref ?? desc.digest);
    if (w.lease !== undefined) {
      if (opts.addLeaseResource === undefined)
        throw ingestInvalid(ref, 'this content store has no lease manager');
      await opts.addLeaseResource(w.lease, desc.digest, { signal: w.signal });
    }
    let dir = ingestDir(ref);
    let hash = dir.slice(dir.lastIndexOf('/') + 1);
    await mkdir(dir, { recursive: true });
    if (!(await claim(dir, hash, w.signal))) {
      // A live writer holds this ref: write a private ingest instead (not resumable).
      privateCounter += 1;
      ref = `${ref}#private-${instance()}-${privateCounter}`;
      logger.debug('ingest ref busy, writing a private ingest', { ref, digest: desc.digest });
      dir = ingestDir(ref);
      hash = dir.slice(dir.lastIndexOf('/') + 1);
      await mkdir(dir, { recursive: true });
      if (!(await claim(dir, hash, w.signal))) throw ingestInvalid(ref, 'private ingest already held');
    }
    active.add(hash);
    let fh: FileHandle | undefined;
    try {
      const algorithm = splitDigest(desc.digest).algorithm;
      const dataPath = join(dir, 'data');
      const meta = await readMeta(dir);
      let digester: Digester | undefined;
      let resumable =
        meta !== undefined &&
        meta.ref === ref &&
        meta.desc.digest === desc.digest &&
        meta.desc.size === desc.size;
      if (resumable) {
        try {
          const st = await stat(dataPath);
          if (st.size > desc.size) resumable = false;
          else digester = await hashFile(dataPath, algorithm, w.signal);
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err;
          resumable = false;
        }
      }
      if (!resumable || digester === undefined) {
        const m: IngestMeta = {
          version: 1,
          ref,
          desc: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size },
          startedAt: new Date().toISOString(),
        };
        await rm(dataPath, { force: true });
        await writeFileAtomic(join(dir, 'meta.json'), JSON.stringify(m), { signal: w.signal });
        digester = createDigester({ algorithm });
      }
      fh = await open(dataPath, 'a', 0o644);
      return ingestWriter({ ref, dir, hash, dataPath, fh, digester, algorithm });
    } catch (err) {
      await fh?.close().catch(() => {});
      active.delete(hash);
      await rm(join(dir, 'owner'), { force: true }).catch(() => {});
      throw err;
    }
  }

  function ingestWriter(s: {
    ref: string;
    dir: string;
    hash: string;
    dataPath: string;
    fh: FileHandle;
    digester: Digester;
    algorithm: 'sha256' | 'sha512';
  }): ContentWriter {
    let offset = s.digester.size;
    let finished = false;
    const finish = async (): Promise<void> => {
      finished = true;
      await s.fh.close().catch(() => {});
      await rm(s.dir, { recursive: true, force: true });
      active.delete(s.hash);
    };
    const guard = (what: string): void => {
      if (finished) throw ingestInvalid(s.ref, `${what} after commit or abort`);
    };
    return {
      get offset() {
        return offset;
      },
      // a chunk is written and hashed before its write settles, and never referenced after
      keepsNoChunks: true,
      async write(chunk) {
        guard('write');
        let done = 0;
        while (done < chunk.byteLength) {
          const { bytesWritten } = await s.fh.write(chunk, done, chunk.byteLength - done);
          done += bytesWritten;
        }
        s.digester.update(chunk);
        offset += chunk.byteLength;
      },
      async writev(chunks, n) {
        guard('write');
        const total = chunks.reduce((sum, c) => sum + c.byteLength, 0);
        if (total !== n) throw ingestInvalid(s.ref, `writev: ${n} bytes announced, ${total} given`);
        // one writev(2) for the batch; a short one (rare on a regular file) goes on chunk by chunk
        let done = (await s.fh.writev(chunks as Uint8Array[])).bytesWritten;
        let at = 0;
        for (const chunk of chunks) {
          const end = at + chunk.byteLength;
          while (done < end) {
            const from = Math.max(done - at, 0);
            done += (await s.fh.write(chunk, from, chunk.byteLength - from)).bytesWritten;
          }
          at = end;
          s.digester.update(chunk);
        }
        offset += n;
      },
      async commit(size, expected) {
        guard('commit');
        try {
          const want = parseDigest(expected);
          if (!Number.isSafeInteger(size) || size < 0 || size !== offset)
            throw sizeMismatch(want, size, offset);
          const wantAlg = splitDigest(want).algorithm;
          const got =
            wantAlg === s.algorithm ? s.digester.digest() : (await hashFile(s.dataPath, wantAlg)).digest();
          if (got !== want) {
            throw new BerthError(
              DigestErrorCode.DIGEST_MISMATCH,
              `blob ${want}: digest mismatch (expected ${want}, got ${got})`,
            );
          }
          await s.fh.sync();
          await s.fh.close();
          const target = blobPath(want);
          if ((await info(want)) === undefined) {
            await chmod(s.dataPath, 0o444);
            await mkdir(join(root, 'blobs', wantAlg), { recursive: true });
            try {
              // link(2) is atomic and never replaces: a racing writer of the same blob gets
              // EEXIST, which means the blob is already there, complete.
              await link(s.dataPath, target);
              await syncDir(join(root, 'blobs', wantAlg));
            } catch (err) {
              if (!isErrno(err, 'EEXIST')) throw err;
            }
          }
          logger.debug('blob committed', { digest: want, size, ref: s.ref });
        } finally {
          await finish();
        }
      },
      async abort() {
        if (finished) return;
        await finish();
      },
    };
  }

  async function readerAt(digest: Digest, o: { signal?: AbortSignal } = {}): Promise<ReaderAt> {
    o.signal?.throwIfAborted();
    let fh: FileHandle;
    try {
      fh = await open(blobPath(parseDigest(digest)), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(digest, err);
      throw err;
    }
    const size = (await fh.stat()).size;
    return {
      size,
      async readAt(position, length) {
        const len = Math.max(0, Math.min(length, size - position));
        const buf = Buffer.alloc(len);
        let got = 0;
        while (got < len) {
          const { bytesRead } = await fh.read(buf, got, len - got, position + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return buf.subarray(0, got);
      },
      close: () => fh.close(),
    };
  }

  async function createReadStream(
    digest: Digest,
    o: { start?: number; end?: number; highWaterMark?: number; signal?: AbortSignal } = {},
  ): Promise<Readable> {
    o.signal?.throwIfAborted();
    let fh: FileHandle;
    try {
      fh = await open(blobPath(parseDigest(digest)), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(digest, err);
      throw err;
    }
    return fh.createReadStream({
      ...(o.start === undefined ? {} : { start: o.start }),
      ...(o.end === undefined ? {} : { end: o.end }),
      ...(o.highWaterMark === undefined ? {} : { highWaterMark: o.highWaterMark }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
  }

  async function readBlob(
    digest: Digest,
    o: { maxSize?: number; signal?: AbortSignal } = {},
  ): Promise<Buffer> {
    o.signal?.throwIfAborted();
    const d = parseDigest(digest);
    const max = o.maxSize ?? DEFAULT_MAX_BLOB_READ;
    const i = await info(d);
    if (i === undefined) throw notFound(d);
    if (i.size > max) {
      throw new BerthError(
        StoreErrorCode.STORE_CORRUPT,
        `content ${d}: ${i.size} bytes is over the ${max}-byte limit`,
        {
          input: { field: d },
        },
      );
    }
    let bytes: Buffer;
    try {
      // a document (config, manifest: kilobytes) is read synchronously, as a promise readFile is
      // four thread-pool round trips; anything large keeps the event loop free
      bytes =
        i.size <= SYNC_READ_MAX
          ? readFileSync(blobPath(d))
          : await readFile(blobPath(d), o.signal === undefined ? {} : { signal: o.signal });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(d, err);
      throw err;
    }
    const got = digestOf(bytes, { algorithm: splitDigest(d).algorithm });
    if (got !== d) {
      throw new BerthError(StoreErrorCode.STORE_CORRUPT, `content ${d}: stored bytes hash to ${got}`, {
        input: { field: d },
      });
    }
    return bytes;
  }

  async function* walk(o: { signal?: AbortSignal } = {}): AsyncIterable<Info> {
    for (const algorithm of ['sha256', 'sha512'] as const) {
      let names: string[];
      try {
        names = await readdir(join(root, 'blobs', algorithm));
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
      for (const name of names) {
        o.signal?.throwIfAborted();
        const digest = `${algorithm}:${name}`;
        if (!isDigest(digest)) continue;
        const i = await info(digest);
        if (i !== undefined) yield i;
      }
    }
  }

  async function del(digest: Digest, o: { signal?: AbortSignal } = {}): Promise<void> {
    o.signal?.throwIfAborted();
    const d = parseDigest(digest);
    try {
      await unlink(blobPath(d));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(d, err);
      throw err;
    }
  }

  async function ingestStatus(hash: string): Promise<IngestStatus | undefined> {
    const dir = join(root, 'ingest', hash);
    const meta = await readMeta(dir);
    let st: { size: number; mtime: Date; birthtime: Date } | undefined;
    try {
      st = await stat(join(dir, 'data'));
    } catch {
      st = undefined;
    }
    let dirStat: { mtime: Date };
    try {
      dirStat = await stat(dir);
    } catch {
      return undefined;
    }
    const s: IngestStatus = {
      ref: meta?.ref ?? '',
      offset: st?.size ?? 0,
      startedAt: meta === undefined ? dirStat.mtime : new Date(meta.startedAt),
      updatedAt: st?.mtime ?? dirStat.mtime,
      active: await isHeld(dir, hash),
    };
    if (meta !== undefined) s.expected = meta.desc;
    return s;
  }

  async function ingestHashes(): Promise<string[]> {
    const names = await readdir(join(root, 'ingest'));
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n));
  }

  async function listIngests(o: { signal?: AbortSignal } = {}): Promise<IngestStatus[]> {
    const out: IngestStatus[] = [];
    for (const h of await ingestHashes()) {
      o.signal?.throwIfAborted();
      const s = await ingestStatus(h);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  async function removeIfAbandoned(hash: string, s?: AbortSignal): Promise<boolean> {
    const dir = join(root, 'ingest', hash);
    return withLock(
      locker,
      ingestLock,
      async () => {
        if (await isHeld(dir, hash)) return false;
        await rm(dir, { recursive: true, force: true });
        return true;
      },
      { signal: s },
    );
  }

  async function abortIngest(ref: string, o: { signal?: AbortSignal } = {}): Promise<void> {
    const dir = ingestDir(checkRef(ref));
    const hash = dir.slice(dir.lastIndexOf('/') + 1);
    if (!(await removeIfAbandoned(hash, o.signal))) throw ingestInvalid(ref, 'held by a live writer');
  }

  async function cleanIngest(o: { olderThan?: number; signal?: AbortSignal } = {}): Promise<IngestStatus[]> {
    const limit = Date.now() - (o.olderThan ?? 0);
    const removed: IngestStatus[] = [];
    for (const h of await ingestHashes()) {
      o.signal?.throwIfAborted();
      const s = await ingestStatus(h);
      if (s === undefined || s.active || s.updatedAt.getTime() > limit) continue;
      if (await removeIfAbandoned(h, o.signal)) {
        logger.info('removed abandoned ingest', { ref: s.ref, offset: s.offset });
        removed.push(s);
      }
    }
    return removed;
  }

  async function repair(o: { verify?: boolean; signal?: AbortSignal } = {}): Promise<RepairReport> {
    const report: RepairReport = { removedTemp: [], staleIngests: [], foreign: [], corrupt: [] };
    const dirs = [root, join(root, 'blobs', 'sha256'), join(root, 'blobs', 'sha512')];
    for (const dir of dirs) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
      for (const name of names) {
        o.signal?.throwIfAborted();
        const path = join(dir, name);
        if (name.startsWith(TEMP_PREFIX)) {
          // A live process may be about to rename its temp file: only dead writers' are stale.
          const pid = /-(\d+)-[a-f0-9]{12}$/.exec(name)?.[1];
          if (pid !== undefined && (Number(pid) === process.pid || (await processStart(Number(pid))) !== -1))
            continue;
          await rm(path, { force: true });
          report.removedTemp.push(path);
        } else if (dir !== root) {
          const algorithm = dir.endsWith('sha512') ? 'sha512' : 'sha256';
          if (!isDigest(`${algorithm}:${name}`)) report.foreign.push(path);
        }
      }
    }
    report.staleIngests = (await listIngests(o)).filter((s) => !s.active);
    if (o.verify === true) {
      for await (const i of walk(o)) {
        const got = (await hashFile(blobPath(i.digest), splitDigest(i.digest).algorithm, o.signal)).digest();
        if (got !== i.digest) {
          logger.warn('removing corrupt blob', { digest: i.digest, got });
          await unlink(blobPath(i.digest)).catch(() => {});
          report.corrupt.push(i.digest);
        }
      }
    }
    return report;
  }

  return {
    path: root,
    info,
    writer,
    readerAt,
    createReadStream,
    readBlob,
    walk,
    delete: del,
    listIngests,
    abortIngest,
    cleanIngest,
    repair,
  };
}
