import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, MediaType, type Mount } from '@berth/oci';
import { zlib } from './decompress.js';
import { isWhiteout } from './lowers.js';
import { OPAQUE_WHITEOUT, OVERLAY_OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, WHITEOUT_PREFIX } from './paths.js';
import { END_OF_ARCHIVE, type TarEntryHeader, tarEntry } from './tar-writer.js';
import { lgetxattrs } from './xattr.js';

/** Options of {@link diffLayer}. */
export interface DiffOptions {
  /**
   * The active snapshot's mounts. Overlay: its `upperdir` is the change set (whiteouts and opaque
   * directories turned back into `.wh.` entries). Bind (copy driver, or a first layer): its tree is
   * compared with `lower`.
   */
  upper: readonly Mount[];
  /** For a bind `upper`: the parent's mounts (a view); absent = diff against an empty tree. */
  lower?: readonly Mount[];
  /** `none` (default) or `gzip`. */
  compression?: 'none' | 'gzip';
  /** Clamp every mtime to at most this (SOURCE_DATE_EPOCH-style reproducibility). */
  mtimeMax?: Date;
  /** Aborts the diff: the stream errors. */
  signal?: AbortSignal;
  /**
   * Leaves out entries whose path (relative, no leading slash, as in the tar) it returns true
   * for; the caller matches a directory's descendants too. For a container's commit: the mount
   * points the engine created (docker keeps them in its `-init` layer).
   */
  exclude?: (path: string) => boolean;
}

/** What a diff produced. */
export interface DiffResult {
  /** sha256 of the uncompressed tar (the new `rootfs.diff_ids` entry). */
  diffId: string;
  /** sha256 of the blob as streamed (equals diffId when uncompressed). */
  digest: string;
  /** Blob size. */
  size: number;
  /** Uncompressed tar size. */
  uncompressedSize: number;
  /** OCI layer media type of the blob. */
  mediaType: string;
}

/** A diff in progress: read `stream` to the end, then `result` resolves. */
export interface DiffStream {
  /** The layer blob. */
  stream: Readable;
  /** Digests and sizes, once the stream has ended; rejects with the stream's error. */
  result: Promise<DiffResult>;
}

interface Entry {
  rel: string;
  header: TarEntryHeader;
  xattrs: Map<string, Buffer>;
  file?: string;
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

const diffError = (what: string, path: string): BerthError =>
  new BerthError('LAYER_INVALID_ENTRY', `diff ${path}: ${what}`, { input: { field: path } });

/**
 * Diffs a container's changes into an OCI layer tar, streaming. Deterministic for the same
 * content: entries in depth-first byte order, headers normalised (no uname/gname, atime or
 * ctime; mtime in whole seconds, clamped by `mtimeMax`), hardlinks kept as tar links to the
 * first path, xattrs as binary-exact PAX `SCHILY.xattr.*` (overlay's own `trusted.overlay.*`
 * left out), gzip at a fixed level with a fixed header. Overlay whiteouts (0:0 char devices)
 * become `.wh.NAME`, an opaque directory gets `.wh..wh..opq` right after its header; mounts are
 * made with `redirect_dir=off`, and a redirect or metacopy xattr found anyway fails the diff.
 * `applyLayer` of the result on the lowers gives the mounted view back.
 * @throws LAYER_INVALID_ENTRY (redirect/metacopy), SNAPSHOT_INVALID_STATE (unsupported mounts)
 */
export function diffLayer(options: DiffOptions): DiffStream {
  const compression = options.compression ?? 'none';
  const upper = options.upper.length === 1 ? options.upper[0] : undefined;
  const opt = (m: Mount, k: string) => m.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  let entries: Generator<Entry>;
  if (upper?.type === 'overlay' && opt(upper, 'upperdir') !== undefined) {
    entries = overlayEntries(opt(upper, 'upperdir')!, '');
  } else if (upper?.type === 'bind') {
    const lower = options.lower?.length === 1 ? options.lower[0] : undefined;
    if (options.lower && lower?.type !== 'bind') {
      throw new BerthError(
        'SNAPSHOT_INVALID_STATE',
        'diff: the lower mounts must be one bind mount (a view)',
        {
          input: { field: 'lower' },
        },
      );
    }
    entries = compareEntries(upper.source, lower?.source ?? null, '');
  } else {
    throw new BerthError(
      'SNAPSHOT_INVALID_STATE',
      'diff: the upper mounts are not those of an active snapshot',
      {
        input: { field: 'upper' },
      },
    );
  }

  const tarHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let tarSize = 0;
  let blobSize = 0;
  const out = new PassThrough();
  const result = (async (): Promise<DiffResult> => {
    try {
      await pipeline(
        Readable.from(tarBlocks(entries, options), { objectMode: false }),
        new Transform({
          transform(chunk: Buffer, _e, cb) {
            tarHash.update(chunk);
            tarSize += chunk.byteLength;
            cb(null, chunk);
          },
        }),
        ...(compression === 'gzip' ? [zlib().createGzip({ level: 6 })] : []),
        new Transform({
          transform(chunk: Buffer, _e, cb) {
            blobHash.update(chunk);
            blobSize += chunk.byteLength;
            cb(null, chunk);
          },
        }),
        out,
        options.signal ? { signal: options.signal } : {},
      );
    } catch (err) {
      out.destroy(err as Error);
      throw err;
    }
    const diffId = `sha256:${tarHash.digest('hex')}`;
    return {
      diffId,
      digest: compression === 'gzip' ? `sha256:${blobHash.digest('hex')}` : diffId,
      size: blobSize,
      uncompressedSize: tarSize,
      mediaType: compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayer,
    };
  })();
  result.catch(() => undefined);
  return { stream: out, result };
}

async function* tarBlocks(entries: Generator<Entry>, options: DiffOptions): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  const max = options.mtimeMax ? Math.floor(options.mtimeMax.getTime() / 1000) : Number.POSITIVE_INFINITY;
  for (const e of entries) {
    options.signal?.throwIfAborted();
    if (options.exclude?.(e.rel)) continue;
    const h: TarEntryHeader = { ...e.header, mtime: Math.min(e.header.mtime, max) };
    if (e.xattrs.size > 0) h.xattrs = [...e.xattrs].sort(([a], [b]) => byteOrder(a, b));
    if (e.file !== undefined) {
      const st = lstatSync(e.file);
      if (st.nlink > 1) {
        const id = `${st.dev}:${st.ino}`;
        const first = links.get(id);
        if (first !== undefined) {
          yield* tarEntry({ ...h, type: 'link', linkname: first, size: 0 }, null);
          continue;
        }
        links.set(id, h.name);
      }
    }
    yield* tarEntry(h, e.file ?? null);
  }
  yield END_OF_ARCHIVE;
}

function headerOf(rel: string, st: Stats, abs: string): TarEntryHeader {
  const base = {
    name: rel,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: Math.floor(st.mtimeMs / 1000),
  };
  if (st.isFile()) return { ...base, type: 'file', size: st.size };
  if (st.isDirectory()) return { ...base, type: 'directory', size: 0 };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkname: readlinkSync(abs), size: 0 };
  if (st.isFIFO()) return { ...base, type: 'fifo', size: 0 };
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    return {
      ...base,
      type: st.isCharacterDevice() ? 'character-device' : 'block-device',
      size: 0,
      devmajor: Math.floor(st.rdev / 256) & 0xfff,
      devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
    };
  }
  throw diffError('unsupported file type (socket)', rel);
}

function layerXattrs(abs: string, rel: string): Map<string, Buffer> {
  const all = lgetxattrs(abs);
  for (const k of all.keys()) {
    if (k === 'trusted.overlay.redirect' || k === 'trusted.overlay.metacopy') {
      throw diffError(`has ${k}; berth mounts overlay with redirect_dir=off and no metacopy`, rel);
    }
    if (k.startsWith(OVERLAY_XATTR_PREFIX)) all.delete(k);
  }
  return all;
}

const join = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);

const whiteoutEntry = (rel: string, st: Stats | null): Entry => ({
  rel,
  header: {
    name: rel,
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: st ? Math.floor(st.mtimeMs / 1000) : 0,
  },
  xattrs: new Map(),
});

/** Entries of an overlay upper dir, whiteouts back in `.wh.` form. */
function* overlayEntries(root: string, rel: string): Generator<Entry> {
  const dirAbs = rel === '' ? root : `${root}/${rel}`;
  if (lgetxattrs(dirAbs).get(OVERLAY_OPAQUE_XATTR)?.toString() === 'y') {
    yield whiteoutEntry(join(rel, OPAQUE_WHITEOUT), lstatSync(dirAbs));
  }
  const children = readdirSync(dirAbs).map((name) => {
    const abs = `${dirAbs}/${name}`;
    const st = lstatSync(abs);
    const wh = isWhiteout(st);
    return { name, abs, st, wh, sortKey: wh ? `${WHITEOUT_PREFIX}${name}` : name };
  });
  children.sort((a, b) => byteOrder(a.sortKey, b.sortKey));
  for (const c of children) {
    const crel = join(rel, c.name);
    if (c.wh) {
      yield whiteoutEntry(join(rel, `${WHITEOUT_PREFIX}${c.name}`), c.st);
      continue;
    }
    yield {
      rel: crel,
      header: headerOf(crel, c.st, c.abs),
      xattrs: layerXattrs(c.abs, crel),
      ...(c.st.isFile() ? { file: c.abs } : {}),
    };
    if (c.st.isDirectory()) yield* overlayEntries(root, crel);
  }
}

const lstatOrNull = (p: string): Stats | null => {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
};

const sameXattrs = (a: Map<string, Buffer>, b: Map<string, Buffer>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k)?.equals(v) === true);

/**
 * Whether two non-directory inodes hold the same thing. Metadata first; a regular file whose
 * mtime has no sub-second part (copied by a tool that truncates times) is compared by content,
 * as containerd's `sameFile` does.
 */
function same(u: Stats, l: Stats, ua: string, la: string): boolean {
  if ((u.mode & 0o170000) !== (l.mode & 0o170000)) return false;
  if (u.mode !== l.mode || u.uid !== l.uid || u.gid !== l.gid || u.rdev !== l.rdev) return false;
  if (u.isDirectory()) return u.mtimeMs === l.mtimeMs;
  if (u.isSymbolicLink()) return readlinkSync(ua) === readlinkSync(la) && u.mtimeMs === l.mtimeMs;
  if (u.size !== l.size || u.mtimeMs !== l.mtimeMs) return false;
  if (u.isFile() && u.mtimeMs % 1000 === 0) return readFileSync(ua).equals(readFileSync(la));
  return true;
}

/** Entries of a full tree compared with its parent's tree (copy driver): containerd's double walk. */
function* compareEntries(upper: string, lower: string | null, rel: string): Generator<Entry> {
  const ua = rel === '' ? upper : `${upper}/${rel}`;
  const la = lower === null ? null : rel === '' ? lower : `${lower}/${rel}`;
  const names = new Set(readdirSync(ua));
  const lowerNames = la === null ? [] : readdirSync(la);
  const out: { key: string; run: () => Generator<Entry> }[] = [];
  for (const name of lowerNames) {
    if (names.has(name)) continue;
    const wh = `${WHITEOUT_PREFIX}${name}`;
    out.push({
      key: wh,
      run: function* () {
        yield whiteoutEntry(join(rel, wh), null);
      },
    });
  }
  for (const name of names) {
    out.push({
      key: name,
      run: function* () {
        const crel = join(rel, name);
        const cu = `${ua}/${name}`;
        const st = lstatSync(cu);
        const cl = la === null ? null : `${la}/${name}`;
        const lst = cl === null ? null : lstatOrNull(cl);
        const xattrs = layerXattrs(cu, crel);
        const changed =
          lst === null || !same(st, lst, cu, cl!) || !sameXattrs(xattrs, layerXattrs(cl!, crel));
        const entry: Entry = {
          rel: crel,
          header: headerOf(crel, st, cu),
          xattrs,
          ...(st.isFile() ? { file: cu } : {}),
        };
        if (st.isDirectory()) {
          if (changed || !lst?.isDirectory()) yield entry;
          yield* compareEntries(upper, lst?.isDirectory() ? lower : null, crel);
        } else if (changed) {
          yield entry;
        }
      },
    });
  }
  out.sort((a, b) => byteOrder(a.key, b.key));
  for (const o of out) yield* o.run();
}
