import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import { BerthError } from '@berth/oci';
import { MAX_TAR_META_BYTES } from './errors.js';

const BLOCK = 512;
const XATTR_PREFIX = 'SCHILY.xattr.';
const PAX = 0x78; // x
const PAX_GLOBAL = 0x67; // g
const GNU_LONG_NAME = 0x4c; // L
const GNU_LONG_LINK = 0x4b; // K
const LINK = 0x31; // 1
const SYMLINK = 0x32; // 2
const GNU_SPARSE = 0x53; // S
/** docker and containerd set times outside [epoch, epoch + 2^63 ns] to the epoch (`boundTime`). */
const MAX_TIME_MS = 9_223_372_036_854;

/** Entry types, named as tar-stream names them. */
export type TarEntryType =
  | 'file'
  | 'link'
  | 'symlink'
  | 'character-device'
  | 'block-device'
  | 'directory'
  | 'fifo'
  | 'contiguous-file';

const TYPES: Record<number, TarEntryType> = {
  0: 'file',
  48: 'file',
  49: 'link',
  50: 'symlink',
  51: 'character-device',
  52: 'block-device',
  53: 'directory',
  54: 'fifo',
  55: 'contiguous-file',
};

/** One entry's header, with its PAX and GNU long-name headers applied. */
export interface TarHeader {
  /**
   * Name as in the archive (PAX `path`, a GNU long name, or ustar prefix + name), not cleaned.
   * Names, link targets and xattr names must be UTF-8 (a file name that is not would be created
   * under another name): `LAYER_INVALID_TAR` otherwise.
   */
  name: string;
  /** The entry type, or the type flag's character for a type berth does not apply. */
  type: TarEntryType | { unknown: string };
  mode: number;
  uid: number;
  gid: number;
  /** Data bytes that follow (PAX `size` wins). */
  size: number;
  /** Modification time as docker and containerd set it: before 1970 or after 2262, the epoch. */
  mtime: Date;
  /** The later of the access time (PAX `atime`, GNU atime) and `mtime`, bounded the same way. */
  atime: Date;
  /** Link target (PAX `linkpath`, a GNU long link name, or the header's field); '' if none. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /**
   * The entry's `SCHILY.xattr.*` records, values byte-exact. Global (`g`) headers are ignored
   * altogether, as docker, containerd and podman ignore them.
   */
  xattrs: Map<string, Buffer> | null;
}

/**
 * Where {@link TarReader} delivers entries, in archive order: `entry` with the header, then
 * `data` with its bytes (in pieces, none for a size-0 entry), then `end`. `entry` and `end` may
 * return a promise: nothing more is parsed until it settles, and its rejection fails the stream.
 */
export interface TarSink {
  entry(header: TarHeader): void | Promise<void>;
  data(chunk: Buffer): void;
  end(): void | Promise<void>;
}

/**
 * A streaming, synchronous tar reader (a `Writable`): one pass that hashes every byte of the
 * uncompressed layer (the diffID covers all of it, padding and trailing bytes included), parses
 * each header and hands the entries to a {@link TarSink} as the bytes arrive, with no stream
 * per entry. Hostile-input rules:
 * - headers are read as Go's archive/tar (docker, containerd) reads them: checksums (unsigned, or
 *   the signed sums some old tars wrote), strict octal or base-256 numbers (a field that is
 *   neither, or a number past 2^53, fails), ustar/GNU/STAR/V7 formats, the type NUL with a
 *   trailing slash as a directory, PAX values that are empty keep the header's;
 * - PAX and GNU long-name headers over {@link MAX_TAR_META_BYTES} fail before anything
 *   buffers them (`LAYER_HEADER_TOO_LARGE`); malformed PAX records fail;
 * - entry types that carry no data (links, devices, fifos, directories) and claim some fail;
 * - neither ustar nor GNU magic: the header is refused (as tar-stream did);
 * - two all-zero blocks (or one and the end of the stream) end the archive: later bytes are
 *   hashed, never parsed; a zero block followed by anything else fails, as in Go;
 * - GNU sparse files (type `S`, PAX `GNU.sparse.*`) fail: their data is not the file's bytes;
 * - global PAX headers are checked for syntax and ignored, as docker ignores them;
 * - a stream that ends inside a header or an entry fails.
 * Failures are `LAYER_INVALID_TAR` unless the sink's own error.
 */
export class TarReader extends Writable {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Data bytes of the current entry still to hand to the sink. */
  private dataLeft = 0;
  /** The current entry's data is being delivered (`end` still due). */
  private inEntry = false;
  /** Padding bytes to skip. */
  private padLeft = 0;
  /** The PAX/long-name payload being collected, when in one. */
  private meta: { type: number; chunks: Buffer[]; left: number } | null = null;
  private pendingXattrs: Map<string, Buffer> | null = null;
  private pendingPax: Map<string, string> | null = null;
  private longName: string | null = null;
  private longLink: string | null = null;
  private ended = false;
  /** A first all-zero block was read: the next block must be zero too (or the stream end). */
  private zeroBlock = false;
  /** Entries handed to the sink. */
  entries = 0;

  constructor(private readonly sink: TarSink) {
    super({ highWaterMark: 1024 * 1024 });
  }

  /** Digest (`sha256:…`) of every byte seen; valid once the stream has finished. */
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }

  /** Number of uncompressed bytes seen. */
  get size(): number {
    return this.bytes;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    if (this.ended) {
      cb();
      return;
    }
    let wait: Promise<void> | undefined;
    try {
      wait = this.scan(chunk, 0);
    } catch (err) {
      cb(err as Error);
      return;
    }
    if (wait === undefined) cb();
    else wait.then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.ended && (this.headerFill > 0 || this.inEntry || this.padLeft > 0 || this.meta !== null)) {
      cb(invalid(`unexpected end of data at byte ${this.bytes}`));
      return;
    }
    cb();
  }

  /**
   * Walks `chunk` from `i`. Returns a promise when the sink asked to wait: the walk goes on
   * from where it stopped once that settles.
   */
  private scan(chunk: Buffer, i: number): Promise<void> | undefined {
    const len = chunk.byteLength;
    while (i < len) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, len - i);
        this.sink.data(chunk.subarray(i, i + n));
        this.dataLeft -= n;
        i += n;
        continue;
      }
      if (this.inEntry) {
        this.inEntry = false;
        const wait = this.sink.end();
        if (wait !== undefined) return this.resume(wait, chunk, i);
        continue;
      }
      const m = this.meta;
      if (m !== null) {
        const n = Math.min(m.left, len - i);
        m.chunks.push(chunk.subarray(i, i + n));
        m.left -= n;
        i += n;
        if (m.left === 0) {
          this.meta = null;
          this.finishMeta(m.type, Buffer.concat(m.chunks));
        }
        continue;
      }
      if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, len - i);
        this.padLeft -= n;
        i += n;
        continue;
      }
      let block: Buffer;
      if (this.headerFill === 0 && len - i >= BLOCK) {
        block = chunk.subarray(i, i + BLOCK);
        i += BLOCK;
      } else {
        const n = Math.min(BLOCK - this.headerFill, len - i);
        chunk.copy(this.header, this.headerFill, i, i + n);
        this.headerFill += n;
        i += n;
        if (this.headerFill < BLOCK) continue;
        this.headerFill = 0;
        block = this.header;
      }
      const wait = this.onHeader(block);
      if (this.ended) return wait;
      if (wait !== undefined) return this.resume(wait, chunk, i);
    }
    // an entry of size 0 at the very end of the chunk
    if (this.inEntry && this.dataLeft === 0) {
      this.inEntry = false;
      return this.sink.end() ?? undefined;
    }
    return undefined;
  }

  private resume(wait: Promise<void>, chunk: Buffer, i: number): Promise<void> {
    return wait.then(() => this.scan(chunk, i));
  }

  /** Handles one 512-byte header; may return the sink's promise. */
  private onHeader(h: Buffer): Promise<void> | undefined {
    if (isZero(h)) {
      if (this.zeroBlock) this.ended = true;
      this.zeroBlock = true;
      return undefined;
    }
    if (this.zeroBlock) throw invalid(`a zero block followed by a non-zero block at byte ${this.bytes}`);
    // POSIX sums unsigned bytes; some old tars summed signed ones (Go's archive/tar accepts both)
    let sum = 0;
    let signed = 0;
    for (let k = 0; k < BLOCK; k++) {
      const b = k >= 148 && k < 156 ? 0x20 : (h[k] as number);
      sum += b;
      signed += b > 127 ? b - 256 : b;
    }
    const want = octalField(h, 148, 8);
    if (want !== sum && want !== signed) throw invalid(`bad header checksum at byte ${this.bytes}`);
    const format = formatOf(h);
    const flag = h[156] as number;
    const size = this.field(h, 124, 12, 'size');
    if (size < 0) throw invalid(`bad size field at entry ${this.entries}`);
    if (flag === PAX || flag === PAX_GLOBAL || flag === GNU_LONG_NAME || flag === GNU_LONG_LINK) {
      if (size > MAX_TAR_META_BYTES) {
        throw new BerthError(
          'LAYER_HEADER_TOO_LARGE',
          `layer tar: ${flag === PAX || flag === PAX_GLOBAL ? 'PAX' : 'GNU long-name'} header of ${size} bytes before entry ${this.entries} exceeds the ${MAX_TAR_META_BYTES}-byte cap`,
          { input: { field: `entry ${this.entries}` } },
        );
      }
      this.padLeft = pad(size);
      if (size === 0) this.finishMeta(flag, Buffer.alloc(0));
      else this.meta = { type: flag, chunks: [], left: size };
      return undefined;
    }

    // every numeric field is checked, even one that PAX overrides (Go)
    const mode = this.field(h, 100, 8, 'mode');
    const uid = this.field(h, 108, 8, 'uid');
    const gid = this.field(h, 116, 8, 'gid');
    const mtime = this.field(h, 136, 12, 'mtime');
    const ustarFields = format !== 'v7';
    const devmajor = ustarFields ? this.field(h, 329, 8, 'devmajor') : 0;
    const devminor = ustarFields ? this.field(h, 337, 8, 'devminor') : 0;
    // PAX wins over a GNU long name, which wins over the header (whose name is read only when used:
    // writers cut a long UTF-8 name anywhere in the header's stand-in)
    const pax = this.pendingPax;
    let name = pax?.get('path') ?? this.longName;
    if (name === undefined || name === null) {
      name = this.text(h, 0, 100, 'name');
      const prefix = this.prefix(h, format);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    const linkname =
      pax?.get('linkpath') ??
      this.longLink ??
      (flag === LINK || flag === SYMLINK ? this.text(h, 157, 100, 'link name') : '');
    let dataSize = size;
    const paxSize = pax?.get('size');
    if (paxSize !== undefined) {
      if (!/^\d{1,15}$/.test(paxSize)) throw invalid(`bad PAX size ${JSON.stringify(paxSize)}`);
      dataSize = Number(paxSize);
    }
    if (flag === GNU_SPARSE || (pax !== null && [...pax.keys()].some((k) => k.startsWith('GNU.sparse.')))) {
      throw invalid(
        `entry ${this.entries} (${JSON.stringify(name)}) is a GNU sparse file, which berth does not read`,
      );
    }
    // old tars mark directories with a trailing slash and the type NUL (Go: TypeRegA only)
    const type: TarHeader['type'] =
      flag === 0 && name.endsWith('/')
        ? 'directory'
        : (TYPES[flag] ?? { unknown: String.fromCharCode(flag) });
    const headerOnly = typeof type === 'string' && type !== 'file' && type !== 'contiguous-file';
    if (headerOnly && dataSize > 0) {
      throw invalid(
        `entry ${this.entries} of type '${String.fromCharCode(flag)}' claims ${dataSize} data bytes`,
      );
    }
    const mtimeMs = (paxNumber(pax, 'mtime', PAX_TIME) ?? mtime) * 1000;
    // GNU headers may carry an atime (Go reads it when its first byte is not NUL)
    const gnuAtime = format === 'gnu' && h[345] !== 0 ? numeric(h, 345, 12) : Number.NaN;
    const atimeRaw = (paxNumber(pax, 'atime', PAX_TIME) ?? gnuAtime) * 1000;
    const atimeMs = Number.isNaN(atimeRaw) ? mtimeMs : Math.max(atimeRaw, mtimeMs);
    const header: TarHeader = {
      name,
      type,
      mode,
      uid: paxNumber(pax, 'uid', PAX_ID) ?? uid,
      gid: paxNumber(pax, 'gid', PAX_ID) ?? gid,
      size: dataSize,
      // docker and containerd: atime is the later of atime and mtime, both bounded
      mtime: new Date(boundTime(mtimeMs)),
      atime: new Date(boundTime(atimeMs)),
      linkname,
      devmajor,
      devminor,
      xattrs: this.pendingXattrs,
    };
    this.pendingPax = null;
    this.pendingXattrs = null;
    this.longName = null;
    this.longLink = null;
    this.entries++;
    this.dataLeft = dataSize;
    this.padLeft = pad(dataSize);
    this.inEntry = true;
    return this.sink.entry(header) ?? undefined;
  }

  /** A numeric header field read as Go reads it; a field Go refuses fails the layer. */
  private field(h: Buffer, off: number, len: number, what: string): number {
    const v = numeric(h, off, len);
    if (Number.isNaN(v)) throw invalid(`bad ${what} field in the header of entry ${this.entries}`);
    return v;
  }

  /** A NUL-terminated field that must be UTF-8. */
  private text(h: Buffer, off: number, len: number, what: string): string {
    let end = off;
    const max = off + len;
    while (end < max && h[end] !== 0) end++;
    return this.utf8(h.subarray(off, end), what);
  }

  private utf8(b: Buffer, what: string): string {
    if (!isUtf8(b)) throw invalid(`the ${what} of entry ${this.entries} is not UTF-8`);
    return b.toString('utf8');
  }

  /**
   * The name prefix, as Go reads it: ustar's 155 bytes, star's 131, none for V7, and for GNU
   * headers none unless the atime/ctime fields do not parse and the bytes are ASCII (the
   * prefix that Go's writer before 1.8 put in GNU headers).
   */
  private prefix(h: Buffer, format: Format): string {
    if (h[345] === 0) return '';
    if (format === 'ustar') return this.text(h, 345, 155, 'name prefix');
    if (format === 'star') return this.text(h, 345, 131, 'name prefix');
    if (format !== 'gnu') return '';
    const atime = h[345] === 0 ? 0 : numeric(h, 345, 12);
    const ctime = h[357] === 0 ? 0 : numeric(h, 357, 12);
    if (!Number.isNaN(atime) && !Number.isNaN(ctime)) return '';
    let end = 345;
    while (end < 500 && h[end] !== 0) end++;
    for (let k = 345; k < end; k++) if ((h[k] as number) >= 0x80) return '';
    return h.toString('latin1', 345, end);
  }

  private finishMeta(type: number, payload: Buffer): void {
    if (type === GNU_LONG_NAME || type === GNU_LONG_LINK) {
      let end = payload.indexOf(0);
      if (end < 0) end = payload.byteLength;
      const value = this.utf8(payload.subarray(0, end), 'GNU long name');
      // an empty long name leaves the header's (Go)
      if (value === '') return;
      if (type === GNU_LONG_NAME) this.longName = value;
      else this.longLink = value;
      return;
    }
    const records = parsePaxRecords(payload, this.entries);
    if (type === PAX_GLOBAL) {
      // docker, containerd and podman ignore a global header; Go hands it out as an entry of its
      // own, so the PAX and GNU long-name headers before it apply to nothing
      this.pendingPax = null;
      this.pendingXattrs = null;
      this.longName = null;
      this.longLink = null;
      return;
    }
    const xattrs = new Map<string, Buffer>();
    const fields = new Map<string, string>();
    for (const [key, value] of records) {
      if (key.startsWith(XATTR_PREFIX)) xattrs.set(key.slice(XATTR_PREFIX.length), value);
      // an empty value keeps the header's (Go's mergePAX)
      else if (value.byteLength === 0) fields.delete(key);
      else if (key === 'path' || key === 'linkpath') fields.set(key, this.utf8(value, `PAX ${key}`));
      else fields.set(key, value.toString('utf8'));
    }
    this.pendingXattrs = xattrs.size > 0 ? xattrs : null;
    this.pendingPax = fields;
  }
}

type Format = 'ustar' | 'star' | 'gnu' | 'v7';

/** Go's format guess: "ustar\0" (ustar, or star with "tar\0" at 508), "ustar  \0" (GNU), else V7. */
function formatOf(h: Buffer): Format {
  if (h[257] !== 0x75 || h[258] !== 0x73 || h[259] !== 0x74 || h[260] !== 0x61 || h[261] !== 0x72)
    return 'v7';
  if (h[262] === 0) {
    return h[508] === 0x74 && h[509] === 0x61 && h[510] === 0x72 && h[511] === 0 ? 'star' : 'ustar';
  }
  return h[262] === 0x20 && h[263] === 0x20 && h[264] === 0 ? 'gnu' : 'v7';
}

/** docker's and containerd's `boundTime`: a time before 1970 or after 2262 becomes the epoch. */
const boundTime = (ms: number): number => (ms >= 0 && ms <= MAX_TIME_MS ? ms : 0);

const PAX_ID = /^[+-]?\d{1,19}$/;
const PAX_TIME = /^[+-]?\d{1,19}(\.\d*)?$/;

/** A PAX number (Go's ParseInt, or its parsePAXTime for times); a malformed one fails. */
function paxNumber(pax: Map<string, string> | null, key: string, syntax: RegExp): number | undefined {
  const v = pax?.get(key);
  if (v === undefined) return undefined;
  if (!syntax.test(v)) throw invalid(`bad PAX ${key} ${JSON.stringify(v)}`);
  const n = Number(v.endsWith('.') ? v.slice(0, -1) : v);
  if (!Number.isFinite(n)) throw invalid(`bad PAX ${key} ${JSON.stringify(v)}`);
  return n;
}

function isZero(h: Buffer): boolean {
  for (let k = 0; k < BLOCK; k++) if (h[k] !== 0) return false;
  return true;
}

const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

const invalid = (what: string): BerthError =>
  new BerthError('LAYER_INVALID_TAR', `layer tar: ${what}`, { input: { field: 'tar' } });

/**
 * A numeric header field as Go's archive/tar reads it (`parseNumeric`): base-256 when the high
 * bit of the first byte is set (two's complement, the sign in the next bit), else octal text
 * with leading and trailing spaces and NULs trimmed and cut at a NUL. NaN when Go would refuse
 * it, or (base-256) when it is past 2^53.
 */
function numeric(h: Buffer, off: number, len: number): number {
  const first = h[off] as number;
  if ((first & 0x80) === 0) return octalField(h, off, len);
  const inv = first & 0x40 ? 0xff : 0;
  let v = (first ^ inv) & 0x7f;
  for (let k = 1; k < len; k++) v = v * 256 + ((h[off + k] as number) ^ inv);
  if (v > Number.MAX_SAFE_INTEGER) return Number.NaN;
  return inv ? -v - 1 : v;
}

/** Go's `parseOctal` (also the checksum's reading: never base-256); NaN when invalid. */
function octalField(h: Buffer, off: number, len: number): number {
  let i = off;
  let end = off + len;
  while (i < end && (h[i] === 0x20 || h[i] === 0)) i++;
  while (end > i && (h[end - 1] === 0x20 || h[end - 1] === 0)) end--;
  let v = 0;
  for (; i < end; i++) {
    const b = h[i] as number;
    if (b === 0) break;
    if (b < 0x30 || b > 0x37) return Number.NaN;
    v = v * 8 + (b - 0x30);
  }
  return v;
}

/**
 * Parses PAX records (`"%d %s=%s\n"`, the length counting the whole record) keeping values as
 * bytes. A malformed record fails the layer.
 */
export function parsePaxRecords(buf: Buffer, entry: number): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  let i = 0;
  while (i < buf.byteLength) {
    const sp = buf.indexOf(0x20, i);
    const lenText = sp < 0 ? '' : buf.subarray(i, sp).toString('latin1');
    const len = /^\d{1,9}$/.test(lenText) ? Number(lenText) : Number.NaN;
    if (!(len > sp - i + 1) || i + len > buf.byteLength || buf[i + len - 1] !== 0x0a) {
      throw invalid(`malformed PAX record before entry ${entry}`);
    }
    const rec = buf.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw invalid(`malformed PAX record before entry ${entry}`);
    const key = rec.subarray(0, eq);
    if (key.indexOf(0) >= 0) throw invalid(`malformed PAX record before entry ${entry}`);
    const k = key.toString('utf8');
    if (k.startsWith(XATTR_PREFIX) && !isUtf8(key))
      throw invalid(`an xattr name before entry ${entry} is not UTF-8`);
    out.push([k, Buffer.from(rec.subarray(eq + 1))]);
    i += len;
  }
  return out;
}
