/**
 * An OCI image layout directory (image-spec `image-layout.md`) as a {@link ContentSink} and as a
 * source to push from: `oci-layout`, `index.json` and `blobs/<alg>/<hex>`. Ingests live in
 * `ingest/` beside them (other OCI tools ignore it): each is a file named by the sha256 of its
 * `ref`, hashed as it is written, fsynced, and renamed into `blobs/` on commit. `index.json` is
 * rewritten (write-temp, fsync, rename) under a lock file, so concurrent pulls into one layout
 * keep every tag.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BerthError,
  type ContentSink,
  type ContentWriter,
  createDigester,
  type Descriptor,
  type Digest,
  type DigestAlgorithm,
  type Index,
  isBerthError,
  type Logger,
  MediaType,
  parseDigest,
  parseIndex,
  parseReference,
  silentLogger,
  splitDigest,
} from '@berth/oci';
import { RegistryError } from './errors.js';

/** The annotation naming a tag in an image layout's `index.json`. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** Options of {@link toLayout}. */
export interface LayoutOptions {
  /**
   * What `tag(name)` records as `org.opencontainers.image.ref.name`: the full normalised
   * reference (`docker.io/library/alpine:latest`, as containerd and berth's store do; the
   * default) or only its tag (`latest`, as skopeo does, for `oci:DIR:latest`).
   */
  refName?: 'full' | 'tag';
  /** How long to wait for another process's `index.json` lock; default 30 s. */
  lockTimeoutMs?: number;
  /**
   * While a blob downloads, every this many bytes its file's data is written to disk
   * (`fdatasync`, which the download does not wait for), so the fsync at its commit has at most
   * this much left to write instead of the whole blob; default 8 MiB, 0 turns it off. Durability
   * is the same either way: a blob is renamed into `blobs/` only after a full fsync.
   */
  writebackBytes?: number;
  /** Structured logger; silent by default. */
  logger?: Logger;
}

/** One tagged entry of `index.json`. */
export interface LayoutEntry {
  /** The `org.opencontainers.image.ref.name` annotation, if any. */
  name?: string;
  /** The entry's descriptor. */
  descriptor: Descriptor;
}

/** An OCI image layout: a sink to pull into and a source to push from. */
export interface OciLayout extends ContentSink {
  /** The layout directory. */
  readonly dir: string;
  /**
   * Makes the blobs committed so far durable: commits fsync each blob's file but leave the
   * fsync of `blobs/<alg>/` to this call (one for many blobs), which `tag` makes before it
   * writes `index.json`, so `index.json` never names a blob a crash could lose. The layout's
   * own files (`oci-layout`, the first `index.json`), when this object created them, are made
   * durable here too.
   */
  sync(): Promise<void>;
  /** Records `name` → `desc` in `index.json` (replacing an entry of the same name). */
  tag(name: string, desc: Descriptor, opts?: { signal?: AbortSignal }): Promise<void>;
  /** The entries of `index.json`. Throws LAYOUT_INVALID when the layout is missing or malformed. */
  entries(opts?: { signal?: AbortSignal }): Promise<LayoutEntry[]>;
  /**
   * The descriptor `name` points at: an exact `ref.name` match, else (for a full reference) an
   * entry named by its tag alone; with no name, the only entry. Throws LAYOUT_INVALID.
   */
  resolve(name?: string, opts?: { signal?: AbortSignal }): Promise<Descriptor>;
  /** Opens a blob, or its bytes `start..end` (inclusive), for reading. Throws BLOB_UNKNOWN when absent. */
  open(digest: Digest, opts?: { start?: number; end?: number; signal?: AbortSignal }): Promise<Readable>;
  /** Reads a small blob whole (at most `maxBytes`, default 4 MiB) and checks its digest. */
  readBlob(desc: Descriptor, opts?: { maxBytes?: number; signal?: AbortSignal }): Promise<Buffer>;
}

const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const LAYOUT_VERSION = '1.0.0';
/**
 * See {@link LayoutOptions.writebackBytes}. The kernel keeps written data in memory for up to
 * 30 s before it writes it back on its own, so without this a blob's fsync wrote the whole blob
 * (~1 ms per MB here), and the last blobs' fsyncs were 40-60 ms of every pull's end.
 */
const DEFAULT_WRITEBACK_BYTES = 8 * 1024 * 1024;

function layoutError(dir: string, why: string, cause?: unknown): RegistryError {
  return new RegistryError(
    'LAYOUT_INVALID',
    `oci layout ${dir}: ${why}`,
    {},
    cause === undefined ? {} : { cause },
  );
}

/** fsync(2) of a file or a directory, by path. */
async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `bytes` to `path` atomically: temp file, fsync, rename, then (unless the caller does it
 * once for several files) fsync of the directory. With `durable: false` neither fsync runs: the
 * caller makes the file durable later (a crash may then leave it empty, never half-written).
 * `beforeRename` is awaited between the temp file's fsync and the rename (its failure drops the
 * temp file): what must be durable before the new content is visible, made so meanwhile.
 */
async function writeAtomic(
  dir: string,
  path: string,
  bytes: string | Uint8Array,
  opts: { syncDir?: boolean; durable?: boolean; beforeRename?: Promise<void> } = {},
): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(bytes);
    if (durable) await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await opts.beforeRename;
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (durable && (opts.syncDir ?? true)) await fsyncPath(dir);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

class Layout implements OciLayout {
  readonly dir: string;
  readonly #refName: 'full' | 'tag';
  readonly #lockTimeoutMs: number;
  readonly #writebackBytes: number;
  readonly #logger: Logger;
  #ready: Promise<void> | undefined;
  #indexChain: Promise<unknown> = Promise.resolve();
  /** `blobs/<alg>` directories made here, so a commit does not mkdir each time. */
  readonly #blobDirs = new Set<string>();
  /**
   * Directories that got a blob, and files this object created, since their last fsync (see
   * {@link Layout.sync}).
   */
  #unsynced = new Set<string>();
  #unsyncedFiles = new Set<string>();
  /** The {@link Layout.sync} in flight, if any. */
  #syncing: Promise<void> | undefined;

  constructor(dir: string, options: LayoutOptions) {
    this.dir = dir;
    this.#refName = options.refName ?? 'full';
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.#writebackBytes = options.writebackBytes ?? DEFAULT_WRITEBACK_BYTES;
    if (!Number.isSafeInteger(this.#writebackBytes) || this.#writebackBytes < 0) {
      throw new RegistryError(
        'INVALID_OPTION',
        `oci layout ${dir}: writebackBytes ${options.writebackBytes} is not a non-negative integer`,
      );
    }
    this.#logger = options.logger ?? silentLogger;
  }

  #blobPath(digest: Digest): string {
    const { algorithm, encoded } = splitDigest(digest);
    return join(this.dir, 'blobs', algorithm, encoded);
  }

  #ingestPath(ref: string): string {
    return join(this.dir, 'ingest', createHash('sha256').update(ref).digest('hex'));
  }

  /**
   * Creates the layout files once (never overwriting what another process made). They are made
   * durable by {@link Layout.sync}, not here: the first blob's download does not wait for three
   * fsyncs (10-100 ms on a busy disk). A crash before `sync` may leave `oci-layout` or
   * `index.json` empty (renamed, never half-written); an empty `oci-layout` is rewritten here and
   * an empty `index.json` is read as one without entries by `tag`.
   */
  #init(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
      this.#blobDirs.add(join(this.dir, 'blobs', 'sha256'));
      await mkdir(join(this.dir, 'ingest'), { recursive: true });
      const layoutPath = join(this.dir, LAYOUT_FILE);
      let text: string | undefined;
      try {
        text = await readFile(layoutPath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          throw layoutError(this.dir, `invalid ${LAYOUT_FILE}`, err);
      }
      if (text !== undefined && text !== '') {
        try {
          const existing = JSON.parse(text) as { imageLayoutVersion?: unknown };
          if (typeof existing?.imageLayoutVersion !== 'string') throw new Error('no imageLayoutVersion');
        } catch (err) {
          throw layoutError(this.dir, `invalid ${LAYOUT_FILE}`, err);
        }
      } else {
        const version = `${JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })}\n`;
        await writeAtomic(this.dir, layoutPath, version, { durable: false });
        this.#unsyncedFiles.add(layoutPath);
        this.#unsynced.add(this.dir);
      }
      const indexPath = join(this.dir, INDEX_FILE);
      try {
        await stat(indexPath);
      } catch {
        await this.#withLock(async () => {
          try {
            await stat(indexPath);
          } catch {
            const empty = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
            await writeAtomic(this.dir, indexPath, `${JSON.stringify(empty)}\n`, { durable: false });
            this.#unsyncedFiles.add(indexPath);
            this.#unsynced.add(this.dir);
          }
        });
      }
    })();
    this.#ready.catch(() => {
      this.#ready = undefined;
    });
    return this.#ready;
  }

  /** Runs `fn` holding `index.json.lock` (in this process: one at a time, in order). */
  #withLock<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const run = this.#indexChain.then(async () => {
      const lockPath = join(this.dir, `${INDEX_FILE}.lock`);
      const deadline = Date.now() + this.#lockTimeoutMs;
      for (;;) {
        signal?.throwIfAborted();
        try {
          const fh = await open(lockPath, 'wx', 0o644);
          await fh.writeFile(String(process.pid));
          await fh.close();
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
          if (Number.isSafeInteger(owner) && owner > 0 && !pidAlive(owner)) {
            this.#logger.warn('removing stale index.json lock', { dir: this.dir, pid: owner });
            await unlink(lockPath).catch(() => {});
            continue;
          }
          if (Date.now() > deadline)
            throw layoutError(this.dir, `${INDEX_FILE}.lock held by pid ${owner || 'unknown'}`);
          await sleep(20);
        }
      }
      try {
        return await fn();
      } finally {
        await unlink(lockPath).catch(() => {});
      }
    });
    this.#indexChain = run.catch(() => {});
    return run;
  }

  /** Reads `index.json`; with `emptyOk`, an empty file (see {@link Layout.#init}) has no entries. */
  async #readIndex(emptyOk = false): Promise<{ raw: Record<string, unknown>; index: Index }> {
    let text: string;
    try {
      text = await readFile(join(this.dir, INDEX_FILE), 'utf8');
    } catch (err) {
      throw layoutError(this.dir, `cannot read ${INDEX_FILE}: ${(err as Error).message}`, err);
    }
    if (text === '' && emptyOk) {
      this.#logger.warn('index.json is empty (a crash before it was synced); rewriting it', {
        dir: this.dir,
      });
      text = `${JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] })}`;
    }
    try {
      const index = parseIndex(text);
      return { raw: JSON.parse(text) as Record<string, unknown>, index };
    } catch (err) {
      throw layoutError(this.dir, `invalid ${INDEX_FILE}: ${(err as Error).message}`, err);
    }
  }

  async info(
    digest: Digest,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ digest: Digest; size: number } | undefined> {
    opts.signal?.throwIfAborted();
    try {
      const st = await stat(this.#blobPath(digest));
      return st.isFile() ? { digest, size: st.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async writer(opts: { ref: string; desc: Descriptor; signal?: AbortSignal }): Promise<ContentWriter> {
    opts.signal?.throwIfAborted();
    await this.#init();
    const path = this.#ingestPath(opts.ref);
    const algorithm = splitDigest(parseDigest(opts.desc.digest)).algorithm;
    const fh = await open(path, 'a', 0o644);
    let offset: number;
    const digester = createDigester({ algorithm });
    try {
      offset = (await fh.stat()).size;
      if (offset > 0) {
        // Hash what an earlier process wrote, so commit can verify the whole blob.
        for await (const chunk of createReadStream(path, { start: 0, end: offset - 1 }))
          digester.update(chunk as Buffer);
      }
    } catch (err) {
      await fh.close();
      throw err;
    }
    return new LayoutWriter(
      this,
      fh,
      path,
      offset,
      digester,
      algorithm,
      opts.desc.size,
      this.#writebackBytes,
    );
  }

  /**
   * Moves a finished (verified, fsynced) ingest into `blobs/`, or over an identical blob already
   * there. The directory is fsynced later, once for many blobs, by {@link Layout.sync}: until
   * then a crash may lose the name (the blob is fetched again), never leave a partial blob.
   */
  async install(ingest: string, digest: Digest): Promise<void> {
    const target = this.#blobPath(digest);
    const dir = join(target, '..');
    if (!this.#blobDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#blobDirs.add(dir);
    }
    await rename(ingest, target);
    this.#unsynced.add(dir);
  }

  async sync(): Promise<void> {
    const dirs = [...this.#unsynced];
    const files = [...this.#unsyncedFiles];
    this.#unsynced = new Set();
    this.#unsyncedFiles = new Set();
    // all at once: nothing counts on any of them before every one is done
    const mine =
      dirs.length + files.length === 0
        ? undefined
        : Promise.all([...files, ...dirs].map(fsyncPath)).then(
            () => {},
            (err: unknown) => {
              for (const d of dirs) this.#unsynced.add(d);
              for (const f of files) this.#unsyncedFiles.add(f);
              throw err;
            },
          );
    // A sync still running took entries this one did not: done only when that one is too.
    const done = Promise.all([this.#syncing, mine]).then(() => {});
    done.catch(() => {}); // the caller awaits it, and so does a sync started meanwhile
    this.#syncing = done;
    done
      .finally(() => {
        if (this.#syncing === done) this.#syncing = undefined;
      })
      .catch(() => {});
    await done;
  }

  async tag(name: string, desc: Descriptor, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#init();
    let stored = name;
    if (this.#refName === 'tag') {
      const ref = parseReference(name);
      stored = ref.tag ?? ref.digest ?? 'latest';
    }
    // Every blob committed so far is durable before index.json can name it: the new index.json
    // is renamed into place only once this sync is done, and is written and fsynced meanwhile
    // (one fsync wait less at the end of a pull). An index.json this object created is replaced
    // below (durably), so it needs no fsync of its own.
    this.#unsyncedFiles.delete(join(this.dir, INDEX_FILE));
    const synced = this.sync();
    // awaited before the rename, or below; this only keeps a failure meanwhile from going unhandled
    synced.catch(() => {});
    await this.#withLock(async () => {
      const { raw, index } = await this.#readIndex(true);
      const entry: Descriptor = {
        mediaType: desc.mediaType,
        digest: desc.digest,
        size: desc.size,
        ...(desc.platform ? { platform: desc.platform } : {}),
        ...(desc.artifactType ? { artifactType: desc.artifactType } : {}),
        annotations: { ...(desc.annotations ?? {}), [REF_NAME_ANNOTATION]: stored },
      };
      const manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== stored);
      manifests.push(entry);
      const next = { ...raw, schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
      await writeAtomic(this.dir, join(this.dir, INDEX_FILE), `${JSON.stringify(next)}\n`, {
        beforeRename: synced,
      });
    }, opts.signal);
    await synced;
  }

  async entries(opts: { signal?: AbortSignal } = {}): Promise<LayoutEntry[]> {
    opts.signal?.throwIfAborted();
    const { index } = await this.#readIndex();
    return index.manifests.map((d) => {
      const name = d.annotations?.[REF_NAME_ANNOTATION];
      return name === undefined ? { descriptor: d } : { name, descriptor: d };
    });
  }

  async resolve(name?: string, opts: { signal?: AbortSignal } = {}): Promise<Descriptor> {
    const entries = await this.entries(opts);
    if (name === undefined) {
      if (entries.length === 1) return entries[0]!.descriptor;
      throw layoutError(this.dir, `${entries.length} entries in ${INDEX_FILE}; name one`);
    }
    const exact = entries.find((e) => e.name === name);
    if (exact) return exact.descriptor;
    let tag: string | undefined;
    try {
      tag = parseReference(name).tag;
    } catch {
      tag = undefined;
    }
    const byTag = tag === undefined ? undefined : entries.find((e) => e.name === tag);
    if (byTag) return byTag.descriptor;
    throw layoutError(
      this.dir,
      `no entry named ${JSON.stringify(name)} (have: ${entries.map((e) => e.name ?? e.descriptor.digest).join(', ') || 'none'})`,
    );
  }

  async open(
    digest: Digest,
    opts: { start?: number; end?: number; signal?: AbortSignal } = {},
  ): Promise<Readable> {
    opts.signal?.throwIfAborted();
    const path = this.#blobPath(digest);
    const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT')
        throw new RegistryError(
          'BLOB_UNKNOWN',
          `oci layout ${this.dir}: blob ${digest} not found`,
          {},
          { cause: err },
        );
      throw err;
    });
    return fh.createReadStream({
      highWaterMark: 1024 * 1024,
      ...(opts.start === undefined ? {} : { start: opts.start }),
      ...(opts.end === undefined ? {} : { end: opts.end }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  async readBlob(desc: Descriptor, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    const max = opts.maxBytes ?? 4 * 1024 * 1024;
    if (desc.size > max)
      throw layoutError(this.dir, `blob ${desc.digest}: ${desc.size} bytes is over the ${max}-byte limit`);
    const stream = await this.open(desc.digest, opts);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of stream) {
      n += (c as Buffer).byteLength;
      if (n > desc.size) {
        stream.destroy();
        break;
      }
      chunks.push(c as Buffer);
    }
    const bytes = Buffer.concat(chunks);
    const digester = createDigester({ algorithm: splitDigest(desc.digest).algorithm });
    digester.update(bytes);
    if (bytes.byteLength !== desc.size || digester.digest() !== desc.digest) {
      throw layoutError(this.dir, `blob ${desc.digest}: content does not match its descriptor`);
    }
    return bytes;
  }
}

class LayoutWriter implements ContentWriter {
  #written: number;
  #done = false;
  /** The `fdatasync` in flight (one at a time), started by {@link LayoutWriter.#writeback}. */
  #syncing: Promise<void> | undefined;
  /** Its failure, reported by `commit` (a failed fdatasync may have lost written pages). */
  #syncError: { err: unknown } | undefined;
  /** Bytes of the file up to which the last started `fdatasync` reached. */
  #syncedTo: number;
  /**
   * A chunk is hashed when given and written before its `write`/`writev` settles, and never
   * referenced after: the blob download may reuse its memory then (`releaseChunks`).
   */
  readonly keepsNoChunks = true;

  constructor(
    readonly layout: Layout,
    readonly fh: FileHandle,
    readonly path: string,
    readonly offset: number,
    readonly digester: ReturnType<typeof createDigester>,
    readonly algorithm: DigestAlgorithm,
    /** The blob's size (from its descriptor): a write that reaches it starts the writeback at once. */
    readonly size: number,
    readonly writebackBytes: number,
  ) {
    this.#written = offset;
    this.#syncedTo = offset;
  }

  /**
   * Starts an `fdatasync` of what is written so far once {@link writebackBytes} more were
   * written, or the blob is complete, unless one is in flight. Writes go on meanwhile (a
   * thread-pool thread waits for the disk); the commit waits for it and reports its failure.
   */
  #writeback(): void {
    if (this.writebackBytes === 0 || this.#syncing !== undefined) return;
    const pending = this.#written - this.#syncedTo;
    if (pending === 0 || (pending < this.writebackBytes && this.#written !== this.size)) return;
    this.#syncedTo = this.#written;
    this.#syncing = this.fh.datasync().then(
      () => {
        this.#syncing = undefined;
      },
      (err: unknown) => {
        this.#syncError ??= { err };
        this.#syncing = undefined;
      },
    );
  }

  #check(): void {
    if (this.#done) throw new BerthError('INTERNAL', `ingest ${this.path}: writer already finished`);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#check();
    // The write runs on libuv's thread pool while this thread hashes the same bytes.
    const writing = this.#writeAll(chunk);
    this.digester.update(chunk);
    this.#written += chunk.byteLength;
    await writing;
    this.#writeback();
  }

  /**
   * Writes several chunks (`n` bytes in all) with one `writev`, without concatenating them, and
   * hashes them meanwhile. Not part of `ContentWriter`: the blob download uses it when present.
   */
  async writev(chunks: readonly Uint8Array[], n: number): Promise<void> {
    this.#check();
    const writing = this.#writevAll(chunks, n);
    for (const c of chunks) this.digester.update(c);
    this.#written += n;
    await writing;
    this.#writeback();
  }

  async #writeAll(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.byteLength) {
      const { bytesWritten } = await this.fh.write(chunk, done, chunk.byteLength - done);
      done += bytesWritten;
    }
  }

  async #writevAll(chunks: readonly Uint8Array[], n: number): Promise<void> {
    const { bytesWritten } = await this.fh.writev(chunks as Uint8Array[]);
    if (bytesWritten === n) return;
    // A short writev (rare on regular files): write what is left chunk by chunk.
    let skip = bytesWritten;
    for (const c of chunks) {
      if (skip >= c.byteLength) {
        skip -= c.byteLength;
        continue;
      }
      await this.#writeAll(skip === 0 ? c : c.subarray(skip));
      skip = 0;
    }
  }

  async commit(size: number, expected: Digest): Promise<void> {
    this.#check();
    this.#done = true;
    try {
      if (this.#written !== size) {
        throw new BerthError(
          'SIZE_MISMATCH',
          `blob ${expected}: size mismatch (expected ${size} bytes, got ${this.#written})`,
        );
      }
      let got = this.digester.digest();
      if (splitDigest(expected).algorithm !== this.algorithm) {
        const other = createDigester({ algorithm: splitDigest(expected).algorithm });
        for await (const c of createReadStream(this.path)) other.update(c as Buffer);
        got = other.digest();
      }
      if (got !== expected) {
        throw new BerthError(
          'DIGEST_MISMATCH',
          `blob ${expected}: digest mismatch (expected ${expected}, got ${got})`,
        );
      }
      await this.#syncing; // never rejects; the file is not closed under it
      if (this.#syncError !== undefined) throw this.#syncError.err;
      await this.fh.sync();
      await this.fh.close();
      await this.layout.install(this.path, expected);
    } catch (err) {
      await this.#syncing; // never rejects; the file is not closed under it
      await this.fh.close().catch(() => {});
      await rm(this.path, { force: true });
      if (isBerthError(err)) throw err;
      throw new RegistryError(
        'LAYOUT_INVALID',
        `oci layout ${this.layout.dir}: cannot commit ${expected}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#syncing; // never rejects; the file is not closed under it
    await this.fh.close().catch(() => {});
    await rm(this.path, { force: true });
  }

  /** Closes the file but keeps the ingest for a later resume (not part of `ContentWriter`). */
  async release(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#syncing; // never rejects; the file is not closed under it
    await this.fh.close().catch(() => {});
  }
}

/**
 * Opens (lazily creating on first write) an OCI image layout at `dir`, usable as a pull target
 * and as a push source. The directory can be read by skopeo (`oci:DIR:NAME`), umoci and others.
 *
 * @example
 * ```ts
 * await client.pull('alpine', toLayout('./alpine'));
 * ```
 */
export function toLayout(dir: string, options: LayoutOptions = {}): OciLayout {
  return new Layout(dir, options);
}
