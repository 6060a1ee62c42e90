import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  type Stats,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, type FsCalls, isBerthError, type Logger, type Mount, silentLogger } from '@berth/oci';
import {
  type Compression,
  corrupt,
  createDecompressor,
  decideCompression,
  loadGunzipAddon,
  SNIFF_BYTES,
} from './decompress.js';
import { entryError } from './errors.js';
import { isWhiteout, lowerDir } from './lowers.js';
import {
  ancestors,
  cleanEntryPath,
  cleanLinkTarget,
  OPAQUE_WHITEOUT,
  OVERLAY_OPAQUE_XATTR,
  OVERLAY_XATTR_PREFIX,
  splitPath,
  under,
  WHITEOUT_PREFIX,
} from './paths.js';
import { type TarHeader, TarReader, type TarSink } from './tar-reader.js';
import { toolFsCalls } from './tools.js';
import { lgetxattrs, lremovexattr, lsetxattr } from './xattr.js';

/** Progress of {@link applyLayer}: compressed bytes read and entries applied so far. */
export interface ApplyProgress {
  /** Event type, versioned like every berth event. */
  type: 'apply';
  /** Compressed bytes read from the stream. */
  read: number;
  /** Tar entries applied. */
  entries: number;
}

/** Options of {@link applyLayer}. */
export interface ApplyLayerOptions {
  /**
   * Where to apply: the mounts an active snapshot's `prepare` returned. For an overlay mount the
   * layer goes into its `upperdir` in overlay form (whiteouts become 0:0 character devices,
   * opaque directories get `trusted.overlay.opaque=y`), and its `lowerdir`s are read for the
   * attributes of implicit parent directories and to refuse writes through lower symlinks. For a
   * bind mount the layer goes into its `source` with whiteouts applied by deleting (the copying
   * driver, or a first layer).
   */
  mounts: readonly Mount[];
  /** The layer blob: tar, tar+gzip or tar+zstd (sniffed from its first bytes). */
  stream: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** The descriptor's media type, checked against the sniffed compression (the bytes win). */
  mediaType?: string;
  /** Expected diffID (digest of the uncompressed tar, the config's `rootfs.diff_ids` entry). */
  diffId?: string;
  /** Expected digest of the blob as read (compressed). */
  digest?: string;
  /**
   * syncfs(2) the target's filesystem once when the layer is complete (default true), so a commit
   * recorded afterwards never points at unwritten data. Files are not fsynced one by one.
   */
  sync?: boolean;
  /**
   * The syncfs(2) and mknod(2) calls (whiteouts, devices, fifos): default coreutils, a process
   * each; {@link unpackLayer} and {@link unpackLayers} pass their snapshotter's.
   */
  fsCalls?: FsCalls;
  /**
   * Path of an addon with ISA-L's gzip decoder (`GunzipAddon`; berth's runtime builds
   * `berth-inflate.node`), loaded in the thread that applies: gzip layers are decoded with it,
   * ~2.5 times as fast as node:zlib. Without it, or when it does not load, node:zlib decodes.
   */
  gunzipAddon?: string;
  /** Called as bytes are read. */
  onProgress?: (p: ApplyProgress) => void;
  /** Structured logger (silent by default). */
  logger?: Logger;
  /** Aborts the apply (the caller removes the snapshot). */
  signal?: AbortSignal;
}

/** What {@link applyLayer} measured. */
export interface ApplyResult {
  /** sha256 of the uncompressed tar: the layer's diffID. */
  diffId: string;
  /**
   * sha256 of the blob as read; computed only when the `digest` option asks for the check (a
   * pull's live feed carries bytes whose digest the content store verifies as it stores them).
   */
  digest?: string;
  /** Bytes read (compressed). */
  size: number;
  /** Bytes of the uncompressed tar. */
  uncompressedSize: number;
  /** The compression found. */
  compression: Compression;
  /** Tar entries applied (metadata headers not counted). */
  entries: number;
}

/** Where a layer goes, from an active snapshot's mounts. */
export interface ApplyTarget {
  /** The directory written into. */
  root: string;
  /** Lower directories, topmost first (overlay only). */
  lowers: string[];
  /** Whether whiteouts are kept in overlay form or applied by deleting. */
  whiteouts: 'overlay' | 'delete';
}

/**
 * Reads the apply target out of an active snapshot's mounts: one overlay mount (upperdir,
 * lowerdir) or one writable bind mount.
 * @throws SNAPSHOT_INVALID_STATE for read-only or unknown mounts
 */
export function applyTarget(mounts: readonly Mount[]): ApplyTarget {
  const m = mounts.length === 1 ? mounts[0] : undefined;
  if (m?.type === 'overlay') {
    const opt = (k: string) => m.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
    const upper = opt('upperdir');
    if (upper !== undefined) {
      const lower = opt('lowerdir');
      return { root: upper, lowers: lower ? lower.split(':') : [], whiteouts: 'overlay' };
    }
  } else if (m?.type === 'bind' && !m.options.includes('ro')) {
    return { root: m.source, lowers: [], whiteouts: 'delete' };
  }
  throw new BerthError('SNAPSHOT_INVALID_STATE', 'apply: the mounts are not those of an active snapshot', {
    input: { field: 'mounts' },
  });
}

const errnoOf = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;

const lstatOrNull = (p: string): Stats | null => {
  try {
    return lstatSync(p);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return null;
    throw err;
  }
};

/** Reads the first bytes, then yields them and the rest: sniffing without losing data. */
async function sniffed(
  source: AsyncIterable<Uint8Array>,
): Promise<{ head: Buffer; rest: AsyncGenerator<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < SNIFF_BYTES) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    chunks.push(b);
    have += b.byteLength;
  }
  const head = Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      if (head.byteLength > 0) yield head;
      if (done) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      }
    } finally {
      await it.return?.();
    }
  }
  return { head, rest: rest() };
}

/**
 * Applies one layer blob in a single streaming pass: read → hash (digest) → decompress → hash
 * (diffID) → untar → write. Ownership, modes (setuid/setgid/sticky, chmod after chown), mtimes
 * (directories last), xattrs (PAX `SCHILY.xattr.*`, byte-exact; `trusted.overlay.*` refused as
 * overlay's own), hardlinks, symlinks, devices and fifos are kept.
 *
 * Every entry is treated as hostile (README, hostile input): names with NUL, absolute names and
 * `..` components are refused; every parent directory is checked with lstat to be a real
 * directory inside the root (a symlink parent, planted by an earlier entry or, through the
 * overlay lowers, an earlier layer, is refused); hardlink targets must be files inside the
 * root reached without symlinks. The first bad entry fails the layer with a typed error naming
 * it. On any failure the target holds a partial layer: the caller removes the snapshot (as
 * {@link unpackLayer} does).
 *
 * @throws LAYER_INVALID_ENTRY, LAYER_UNSAFE_PATH, LAYER_HEADER_TOO_LARGE, LAYER_INVALID_TAR,
 *   LAYER_UNSUPPORTED_COMPRESSION, DIGEST_MISMATCH, TOOL_FAILED
 */
export async function applyLayer(options: ApplyLayerOptions): Promise<ApplyResult> {
  return (await applyLayerInto(applyTarget(options.mounts), options)).result;
}

/** A directory the layer needs but does not list, created before its lowers were known. */
export interface ImplicitDir {
  /** Clean relative path. */
  dir: string;
  /** The entry that needed it, for errors. */
  entry: string;
}

/**
 * {@link applyLayer} into an explicit target (internal; {@link unpackLayers} uses it). With
 * `deferLowers`, the target's lowers are not read: implicit parent directories are created
 * root 0755 and returned, for {@link fixImplicitDirs} to give them the lower directories'
 * attributes (and to refuse lower symlinks) once the lowers are complete.
 */
export async function applyLayerInto(
  target: ApplyTarget,
  options: Omit<ApplyLayerOptions, 'mounts'>,
  deferLowers = false,
): Promise<{ result: ApplyResult; implicit: ImplicitDir[] }> {
  const logger = options.logger ?? silentLogger;
  const source: AsyncIterable<Uint8Array> =
    options.stream instanceof Readable ? options.stream : Readable.from(options.stream);
  const { head, rest } = await sniffed(source);
  const compression = decideCompression(head, options.mediaType, logger);

  const blobHash = options.digest === undefined ? undefined : createHash('sha256');
  let read = 0;
  const fsCalls = options.fsCalls ?? toolFsCalls;
  const applier = new Applier(target, logger, deferLowers, fsCalls);
  const onProgress = options.onProgress;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      blobHash?.update(chunk);
      read += chunk.byteLength;
      onProgress?.({ type: 'apply', read, entries: applier.entries });
      cb(null, chunk);
    },
  });
  const reader = new TarReader(applier);
  const gunzip =
    compression === 'gzip' && options.gunzipAddon !== undefined
      ? loadGunzipAddon(options.gunzipAddon, logger)
      : undefined;
  if (compression === 'gzip')
    logger.debug('gzip layer', { decoder: gunzip === undefined ? 'node:zlib' : 'isa-l' });

  try {
    await pipeline(
      Readable.from(rest),
      counter,
      createDecompressor(compression, gunzip),
      reader,
      options.signal ? { signal: options.signal } : {},
    );
    applier.finish();
  } catch (err) {
    throw mapStreamError(err, compression);
  } finally {
    applier.dispose();
  }

  const result: ApplyResult = {
    diffId: reader.digest(),
    ...(blobHash === undefined ? {} : { digest: `sha256:${blobHash.digest('hex')}` }),
    size: read,
    uncompressedSize: reader.size,
    compression,
    entries: applier.entries,
  };
  if (options.diffId !== undefined && options.diffId !== result.diffId) {
    throw new BerthError(
      'DIGEST_MISMATCH',
      `layer ${options.digest ?? options.diffId}: diffID mismatch (expected ${options.diffId}, got ${result.diffId})`,
      { input: { field: 'rootfs.diff_ids' } },
    );
  }
  if (options.digest !== undefined && options.digest !== result.digest) {
    throw new BerthError(
      'DIGEST_MISMATCH',
      `layer ${options.digest}: digest mismatch (expected ${options.digest}, got ${result.digest})`,
      { input: { field: 'digest' } },
    );
  }
  if (options.sync !== false)
    await fsCalls.syncfs(target.root, options.signal ? { signal: options.signal } : {});
  return { result, implicit: applier.implicit() };
}

function mapStreamError(err: unknown, compression: Compression): unknown {
  if (isBerthError(err)) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  const code = errnoOf(err);
  if (code?.startsWith('Z_') || code === 'ERR_BUFFER_TOO_LARGE') return corrupt(compression, err);
  if (err instanceof Error && /tar|header|unexpected end/i.test(err.message)) {
    return new BerthError('LAYER_INVALID_TAR', `layer tar: ${err.message.toLowerCase()}`, {
      input: { field: 'tar' },
      cause: err,
    });
  }
  return err;
}

interface DeferredTime {
  path: string;
  atime: Date;
  mtime: Date;
}

/** A regular file being written: its data arrives in pieces, its attributes go on at the end. */
interface OpenFile {
  fd: number;
  path: string;
  rel: string;
  name: string;
  uid: number;
  gid: number;
  mode: number;
  xattrs: [string, Buffer][];
  atime: Date;
  mtime: Date;
}

/** Applies entries one by one as the {@link TarReader} parses them; holds the per-layer state. */
class Applier implements TarSink {
  entries = 0;
  /** Relative paths known to be real directories inside the root (verified or created). */
  private readonly dirs = new Set<string>(['']);
  /** Paths this layer created (whiteouts and opaque markers act on lower layers only). */
  private readonly created = new Set<string>();
  /** Directory times to set at the end: explicit entries, and pre-existing dirs this layer changed. */
  private readonly dirTimes = new Map<string, DeferredTime>();
  /** The target was empty: nothing exists that this layer did not create (saves lstats). */
  private readonly fresh: boolean;
  private whiteoutBase: string | null = null;
  /** Implicit directories whose lower attributes are still to be applied (deferred lowers). */
  private readonly implicitDirs = new Map<string, string>();
  /** The regular file whose data is arriving, if any. */
  private file: OpenFile | null = null;
  /** The current entry's name, for errors in its data and end. */
  private current = '';

  constructor(
    private readonly target: ApplyTarget,
    private readonly logger: Logger,
    private readonly deferLowers = false,
    private readonly fsCalls: FsCalls = toolFsCalls,
  ) {
    this.fresh = readdirSync(target.root).length === 0;
  }

  private abs(rel: string): string {
    return under(this.target.root, rel);
  }

  entry(h: TarHeader): void | Promise<void> {
    this.entries++;
    this.current = h.name;
    try {
      const wait = this.apply(h);
      return wait === undefined ? undefined : wait.catch((err: unknown) => this.wrap(err));
    } catch (err) {
      return this.wrap(err);
    }
  }

  data(chunk: Buffer): void {
    const f = this.file;
    if (f === null) return; // a whiteout's data, if any: ignored
    try {
      writeAll(f.fd, chunk);
    } catch (err) {
      this.wrap(err);
    }
  }

  end(): void {
    const f = this.file;
    if (f === null) return;
    this.file = null;
    try {
      try {
        fchownSync(f.fd, f.uid, f.gid);
        fchmodSync(f.fd, f.mode); // after chown, which clears setuid/setgid
        for (const [k, v] of f.xattrs) lsetxattr(f.path, k, v); // after chown, which drops security.capability
        futimesSync(f.fd, f.atime, f.mtime);
      } finally {
        closeSync(f.fd);
      }
    } catch (err) {
      this.wrap(err);
    }
  }

  private wrap(err: unknown): never {
    if (isBerthError(err)) throw err;
    throw entryError('LAYER_INVALID_ENTRY', this.current, `cannot apply: ${(err as Error).message}`, err);
  }

  private apply(h: TarHeader): Promise<void> | undefined {
    const name = h.name;
    const rel = cleanEntryPath(name);
    const { parent, base } = splitPath(rel);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (h.type !== 'file' && h.type !== 'contiguous-file') {
        throw entryError('LAYER_INVALID_ENTRY', name, 'a whiteout must be a regular file');
      }
      this.ensureParents(rel, name);
      if (base === OPAQUE_WHITEOUT) {
        this.opaque(parent, name);
        return undefined;
      }
      if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
        // aufs metadata (.wh..wh.plnk, .wh..wh.aufs): docker ignores it too
        this.logger.debug('ignoring aufs metadata entry', { entry: name });
        return undefined;
      }
      const victim = base.slice(WHITEOUT_PREFIX.length);
      if (victim === '' || victim === '.' || victim === '..') {
        throw entryError('LAYER_INVALID_ENTRY', name, 'whiteout names nothing');
      }
      return this.whiteout(parent === '' ? victim : `${parent}/${victim}`, name);
    }

    const mode = h.mode & 0o7777;
    const { uid, gid, mtime, atime } = h;
    const xattrs = this.filterXattrs(h.xattrs, name);

    if (rel === '') {
      if (h.type !== 'directory')
        throw entryError('LAYER_INVALID_ENTRY', name, 'the layer root must be a directory');
      const root = this.target.root;
      lchownSync(root, uid, gid);
      chmodSync(root, mode);
      for (const [k, v] of xattrs) lsetxattr(root, k, v);
      this.dirTimes.set(root, { path: root, atime, mtime });
      return undefined;
    }

    this.ensureParents(rel, name);
    const path = this.abs(rel);
    const existing = this.fresh && !this.created.has(rel) ? null : lstatOrNull(path);
    if (existing) {
      if (h.type === 'directory' && existing.isDirectory()) {
        lchownSync(path, uid, gid);
        chmodSync(path, mode);
        // a directory over a directory takes the new attributes only, as the overlay view does
        const keep = new Set(xattrs.map(([k]) => k));
        for (const k of lgetxattrs(path).keys()) {
          if (!keep.has(k) && !k.startsWith(OVERLAY_XATTR_PREFIX)) lremovexattr(path, k);
        }
        for (const [k, v] of xattrs) lsetxattr(path, k, v);
        this.dirTimes.set(path, { path, atime, mtime });
        this.created.add(rel);
        this.implicitDirs.delete(rel);
        return undefined;
      }
      this.removeExisting(rel, existing);
    }

    switch (h.type) {
      case 'file':
      case 'contiguous-file':
        this.file = {
          fd: openSync(
            path,
            constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
            0o600,
          ),
          path,
          rel,
          name,
          uid,
          gid,
          mode,
          xattrs,
          atime,
          mtime,
        };
        break;
      case 'directory':
        mkdirSync(path, 0o700);
        lchownSync(path, uid, gid);
        chmodSync(path, mode);
        for (const [k, v] of xattrs) lsetxattr(path, k, v);
        this.dirs.add(rel);
        this.dirTimes.set(path, { path, atime, mtime });
        break;
      case 'symlink': {
        const linkname = h.linkname;
        if (linkname === '') throw entryError('LAYER_INVALID_ENTRY', name, 'symlink with an empty target');
        if (linkname.includes('\0'))
          throw entryError('LAYER_INVALID_ENTRY', name, 'symlink target contains NUL');
        // the target is stored verbatim and never followed here
        symlinkSync(linkname, path);
        lchownSync(path, uid, gid);
        for (const [k, v] of xattrs) lsetxattr(path, k, v);
        lutimesSync(path, atime, mtime);
        break;
      }
      case 'link': {
        const targetRel = cleanLinkTarget(name, h.linkname);
        this.checkParents(targetRel, name);
        const st = lstatOrNull(this.abs(targetRel));
        if (st === null) {
          throw entryError(
            'LAYER_INVALID_ENTRY',
            name,
            `hardlink target ${JSON.stringify(h.linkname)} does not exist in this layer`,
          );
        }
        if (st.isDirectory()) throw entryError('LAYER_UNSAFE_PATH', name, 'hardlink to a directory');
        if (isWhiteout(st)) throw entryError('LAYER_INVALID_ENTRY', name, 'hardlink to a whiteout');
        // link(2) on Linux does not follow a symlink target: the link is to the symlink itself
        linkSync(this.abs(targetRel), path);
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo':
        this.created.add(rel);
        return this.special(h, rel, base, path, mode, xattrs);
      default:
        throw entryError(
          'LAYER_INVALID_ENTRY',
          name,
          `unsupported entry type ${typeof h.type === 'string' ? h.type : JSON.stringify(h.type.unknown)}`,
        );
    }
    this.created.add(rel);
    return undefined;
  }

  /** A device node or fifo ({@link FsCalls.mknod}: Node has no mknod). */
  private async special(
    h: TarHeader,
    rel: string,
    base: string,
    path: string,
    mode: number,
    xattrs: [string, Buffer][],
  ): Promise<void> {
    const dir = this.abs(splitPath(rel).parent);
    if (h.type === 'fifo') await this.fsCalls.mknod(`${dir}/${base}`, 'p', 0o600, 0, 0);
    else
      await this.fsCalls.mknod(
        `${dir}/${base}`,
        h.type === 'character-device' ? 'c' : 'b',
        0o600,
        h.devmajor,
        h.devminor,
      );
    lchownSync(path, h.uid, h.gid);
    chmodSync(path, mode);
    for (const [k, v] of xattrs) lsetxattr(path, k, v);
    utimesSync(path, h.atime, h.mtime);
  }

  private filterXattrs(raw: Map<string, Buffer> | null, name: string): [string, Buffer][] {
    if (!raw) return [];
    const out: [string, Buffer][] = [];
    for (const [k, v] of raw) {
      if (k.startsWith(OVERLAY_XATTR_PREFIX)) {
        // overlay's own metadata (opaque, redirect, metacopy) would steer the kernel's lookup
        throw entryError('LAYER_UNSAFE_PATH', name, `xattr ${k} is reserved for overlayfs`);
      }
      if (k === '' || k.includes('\0')) throw entryError('LAYER_INVALID_ENTRY', name, 'invalid xattr name');
      out.push([k, v]);
    }
    return out;
  }

  /**
   * In a tree that existed before (copy driver), keeps the times of a directory this layer
   * changes without listing it, as the overlay view does (the copied-up directory keeps them).
   */
  private keepTimes(dir: string): void {
    if (this.fresh || this.created.has(dir)) return;
    const path = this.abs(dir);
    if (this.dirTimes.has(path)) return;
    const st = lstatSync(path);
    this.dirTimes.set(path, { path, atime: st.atime, mtime: st.mtime });
  }

  /** Makes every parent of `rel` a real directory inside the root, creating missing ones. */
  private ensureParents(rel: string, entry: string): void {
    this.ensureAncestors(rel, entry);
    this.keepTimes(splitPath(rel).parent);
  }

  private ensureAncestors(rel: string, entry: string): void {
    for (const dir of ancestors(rel)) {
      if (this.dirs.has(dir)) continue;
      const path = this.abs(dir);
      const st = this.fresh && !this.created.has(dir) ? null : lstatOrNull(path);
      if (st === null) {
        this.implicitDir(dir, entry);
      } else if (st.isSymbolicLink()) {
        throw entryError(
          'LAYER_UNSAFE_PATH',
          entry,
          `parent /${dir} is a symlink; refusing to write through it`,
        );
      } else if (!st.isDirectory()) {
        throw entryError('LAYER_INVALID_ENTRY', entry, `parent /${dir} is not a directory`);
      }
      this.dirs.add(dir);
    }
  }

  /** Checks, without creating anything, that every parent of `rel` is a real directory. */
  private checkParents(rel: string, entry: string): void {
    for (const dir of ancestors(rel)) {
      if (this.dirs.has(dir)) continue;
      const st = lstatOrNull(this.abs(dir));
      if (st === null)
        throw entryError('LAYER_INVALID_ENTRY', entry, `hardlink target parent /${dir} does not exist`);
      if (!st.isDirectory()) {
        throw entryError('LAYER_UNSAFE_PATH', entry, `hardlink target parent /${dir} is not a directory`);
      }
      this.dirs.add(dir);
    }
  }

  /**
   * A directory the layer needs but does not list. With overlay lowers it takes the lower
   * directory's owner, mode, xattrs and times (so `tmp/x` alone does not turn /tmp 0755, as
   * containerd's `WithParents` does); otherwise root 0755, as docker's MkdirAll.
   */
  private implicitDir(dir: string, entry: string): void {
    const path = this.abs(dir);
    if (this.deferLowers) {
      mkdirSync(path, 0o755);
      this.created.add(dir);
      this.implicitDirs.set(dir, entry);
      return;
    }
    const lower = this.target.lowers.length > 0 ? lowerDir(this.target.lowers, dir, entry) : null;
    mkdirSync(path, 0o755);
    this.created.add(dir);
    const t = lower ? takeLowerAttrs(path, this.target.lowers, dir, lower) : null;
    if (t) this.dirTimes.set(path, t);
  }

  private removeExisting(rel: string, st: Stats): void {
    const path = this.abs(rel);
    if (st.isDirectory()) {
      rmSync(path, { recursive: true, force: true }); // does not follow symlinks inside
      const prefix = `${rel}/`;
      for (const d of this.dirs) if (d === rel || d.startsWith(prefix)) this.dirs.delete(d);
      for (const d of this.implicitDirs.keys())
        if (d === rel || d.startsWith(prefix)) this.implicitDirs.delete(d);
      // its times (and its subdirectories') are not set at the end: the path may become a
      // symlink to anywhere (utimes would follow it out of the root)
      for (const p of this.dirTimes.keys())
        if (p === path || p.startsWith(`${path}/`)) this.dirTimes.delete(p);
    } else {
      unlinkSync(path);
    }
  }

  /** image-spec: `.wh.NAME` deletes NAME from the lower layers (never from this layer). */
  private whiteout(rel: string, entry: string): Promise<void> | undefined {
    const path = this.abs(rel);
    if (this.created.has(rel)) {
      // this layer wrote NAME already: lower content must still be hidden under a directory
      const st = lstatOrNull(path);
      if (st?.isDirectory() && this.target.whiteouts === 'overlay')
        lsetxattr(path, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      return undefined;
    }
    const st = this.fresh ? null : lstatOrNull(path);
    if (st) this.removeExisting(rel, st);
    if (this.target.whiteouts === 'delete') return undefined;
    this.created.add(rel);
    // a hardlink of this layer's whiteout inode, once there is one
    if (this.whiteoutBase !== null && this.linkWhiteout(path, entry)) return undefined;
    return this.makeWhiteout(path, entry);
  }

  /** Links `path` to the whiteout base; false when the base has as many links as it can take. */
  private linkWhiteout(path: string, entry: string): boolean {
    try {
      linkSync(this.whiteoutBase as string, path);
      return true;
    } catch (err) {
      if (errnoOf(err) !== 'EMLINK')
        throw entryError('LAYER_INVALID_ENTRY', entry, 'cannot create whiteout', err);
      unlinkSync(this.whiteoutBase as string);
      this.whiteoutBase = null;
      return false;
    }
  }

  /**
   * Creates an overlay whiteout (char 0:0, mode 0, root-owned). One mknod(2) per layer: every
   * further whiteout is a hardlink of the first, as overlayfs itself shares its whiteout inode
   * (Linux 5.8, `ovl_whiteout`), so a layer deleting thousands of files makes one node.
   */
  private async makeWhiteout(path: string, entry: string): Promise<void> {
    const name = `.berth-whiteout-${randomBytes(8).toString('hex')}`;
    await this.fsCalls.mknod(this.abs(name), 'c', 0, 0, 0);
    this.whiteoutBase = this.abs(name);
    if (!this.linkWhiteout(path, entry))
      throw entryError(
        'LAYER_INVALID_ENTRY',
        entry,
        'cannot create whiteout: a new whiteout inode takes no link',
      );
  }

  /** image-spec: `.wh..wh..opq` hides the lower layers' children of its directory. */
  private opaque(dir: string, entry: string): void {
    const path = this.abs(dir);
    if (this.target.whiteouts === 'overlay') {
      lsetxattr(path, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    this.keepTimes(dir);
    for (const child of readdirSync(path)) {
      const rel = dir === '' ? child : `${dir}/${child}`;
      if (this.created.has(rel)) continue;
      const st = lstatOrNull(this.abs(rel));
      if (st) this.removeExisting(rel, st);
    }
    void entry;
  }

  /** Implicit directories left for {@link fixImplicitDirs}, parents first. */
  implicit(): ImplicitDir[] {
    return [...this.implicitDirs].map(([dir, entry]) => ({ dir, entry }));
  }

  /** Sets directory times last (creating entries changes them) and drops the whiteout base. */
  finish(): void {
    this.dispose();
    for (const t of this.dirTimes.values()) lutimesSync(t.path, t.atime, t.mtime);
  }

  dispose(): void {
    if (this.file !== null) {
      try {
        closeSync(this.file.fd);
      } catch {
        // closed already
      }
      this.file = null;
    }
    if (this.whiteoutBase !== null) {
      try {
        unlinkSync(this.whiteoutBase);
      } catch {
        // already gone with a removed snapshot
      }
      this.whiteoutBase = null;
    }
  }
}

/** Gives `path` the owner, mode and xattrs of the lower directory `dir`; returns its times. */
function takeLowerAttrs(path: string, lowers: readonly string[], dir: string, lower: Stats): DeferredTime {
  const lowerPath = lowers.map((l) => `${l}/${dir}`).find((p) => lstatOrNull(p)?.isDirectory());
  lchownSync(path, lower.uid, lower.gid);
  chmodSync(path, lower.mode & 0o7777);
  if (lowerPath) {
    for (const [k, v] of lgetxattrs(lowerPath))
      if (!k.startsWith(OVERLAY_XATTR_PREFIX)) lsetxattr(path, k, v);
  }
  return { path, atime: lower.atime, mtime: lower.mtime };
}

/**
 * The second half of an apply with deferred lowers: once the lower directories (topmost
 * first) hold their complete layers, each implicit directory of the layer in `root` takes the
 * attributes of the directory below it (as {@link applyLayer} does at once), and a lower
 * symlink on its path is refused with `LAYER_UNSAFE_PATH` naming the entry, as at apply time.
 * Directory times are set last. Writes stay inside `root` either way (the apply never follows
 * anything in the lowers); this keeps the merged view the same as a sequential apply's.
 * @throws LAYER_UNSAFE_PATH
 */
export function fixImplicitDirs(
  root: string,
  lowers: readonly string[],
  implicit: readonly ImplicitDir[],
): void {
  if (lowers.length === 0) return;
  const times: DeferredTime[] = [];
  for (const { dir, entry } of implicit) {
    const lower = lowerDir(lowers, dir, entry);
    if (lower) times.push(takeLowerAttrs(under(root, dir), lowers, dir, lower));
  }
  for (const t of times.reverse()) lutimesSync(t.path, t.atime, t.mtime);
}

function writeAll(fd: number, chunk: Buffer): void {
  let off = 0;
  while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
}
