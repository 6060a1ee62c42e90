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
  /** Name as in the archive (PAX `path`, a GNU long name, or ustar prefix + name), not cleaned. */
  name: string;
  /** The entry type, or the type flag's character for a type berth does not apply. */
  type: TarEntryType | { unknown: string };
  mode: number;
  uid: number;
  gid: number;
  /** Data bytes that follow (PAX `size` wins). */
  size: number;
  mtime: Date;
  atime: Date;
  /** Link target (PAX `linkpath`, a GNU long link name, or the header's field); '' if none. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** `SCHILY.xattr.*` records (global, then the entry's own), values byte-exact. */
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
 * - header checksums are checked (unsigned, or the signed sums some old tars wrote);
 * - PAX and GNU long-name headers over {@link MAX_TAR_META_BYTES} fail before anything
 *   buffers them (`LAYER_HEADER_TOO_LARGE`); malformed PAX records fail;
 * - entry types that carry no data (links, devices, fifos, directories) and claim some fail;
 * - neither ustar nor GNU magic: the header is refused (as tar-stream did);
 * - the first all-zero block ends the archive: later bytes are hashed, never parsed;
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
  private globalXattrs: Map<string, Buffer> | null = null;
  private longName: string | null = null;
  private longLink: string | null = null;
  private ended = false;
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
      this.ended = true;
      return undefined;
    }
    // POSIX sums unsigned bytes; some old tars summed signed ones (Go's archive/tar accepts both)
    let sum = 0;
    let signed = 0;
    for (let k = 0; k < BLOCK; k++) {
      const b = k >= 148 && k < 156 ? 0x20 : (h[k] as number);
      sum += b;
      signed += b > 127 ? b - 256 : b;
    }
    const want = parseNumber(h, 148, 8);
    if (want !== sum && want !== signed) throw invalid(`bad header checksum at byte ${this.bytes}`);
    const ustar = isUstar(h);
    if (!ustar && !isGnu(h)) throw invalid(`unknown header format at entry ${this.entries}`);
    const flag = h[156] as number;
    const size = parseNumber(h, 124, 12);
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

    const pax = this.pendingPax;
    let name = this.longName ?? text(h, 0, 100);
    if (this.longName === null && ustar && h[345] !== 0) name = `${text(h, 345, 155)}/${name}`;
    if (pax?.has('path')) name = pax.get('path') as string;
    let linkname = this.longLink ?? text(h, 157, 100);
    if (pax?.has('linkpath')) linkname = pax.get('linkpath') as string;
    let dataSize = size;
    const paxSize = pax?.get('size');
    if (paxSize !== undefined) {
      if (!/^\d{1,15}$/.test(paxSize)) throw invalid(`bad PAX size ${JSON.stringify(paxSize)}`);
      dataSize = Number(paxSize);
    }
    // old tars mark directories with a trailing slash only
    const type: TarHeader['type'] =
      (flag === 0 || flag === 0x30) && name.endsWith('/')
        ? 'directory'
        : (TYPES[flag] ?? { unknown: String.fromCharCode(flag) });
    const headerOnly = typeof type === 'string' && type !== 'file' && type !== 'contiguous-file';
    if (headerOnly && dataSize > 0) {
      throw invalid(
        `entry ${this.entries} of type '${String.fromCharCode(flag)}' claims ${dataSize} data bytes`,
      );
    }
    const mtime = paxTime(pax?.get('mtime')) ?? new Date(octal(h, 136, 12) * 1000);
    const header: TarHeader = {
      name,
      type,
      mode: octal(h, 100, 8),
      uid: paxInt(pax?.get('uid')) ?? octal(h, 108, 8),
      gid: paxInt(pax?.get('gid')) ?? octal(h, 116, 8),
      size: dataSize,
      mtime,
      atime: paxTime(pax?.get('atime')) ?? mtime,
      linkname,
      devmajor: octal(h, 329, 8),
      devminor: octal(h, 337, 8),
      xattrs: mergeXattrs(this.globalXattrs, this.pendingXattrs),
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

  private finishMeta(type: number, payload: Buffer): void {
    if (type === GNU_LONG_NAME || type === GNU_LONG_LINK) {
      const value = text(payload, 0, payload.byteLength);
      if (type === GNU_LONG_NAME) this.longName = value;
      else this.longLink = value;
      return;
    }
    const records = parsePaxRecords(payload, this.entries);
    const xattrs = new Map<string, Buffer>();
    const fields = new Map<string, string>();
    for (const [key, value] of records) {
      if (key.startsWith(XATTR_PREFIX)) xattrs.set(key.slice(XATTR_PREFIX.length), value);
      else fields.set(key, value.toString('utf8'));
    }
    // a global header's xattrs apply to every entry after it; its other fields are ignored, as
    // docker ignores global headers
    if (type === PAX_GLOBAL) this.globalXattrs = xattrs.size > 0 ? xattrs : null;
    else {
      this.pendingXattrs = xattrs.size > 0 ? xattrs : null;
      this.pendingPax = fields;
    }
  }
}

function isZero(h: Buffer): boolean {
  for (let k = 0; k < BLOCK; k++) if (h[k] !== 0) return false;
  return true;
}

// "ustar\0" (POSIX) at 257
const isUstar = (h: Buffer): boolean =>
  h[257] === 0x75 && h[258] === 0x73 && h[259] === 0x74 && h[260] === 0x61 && h[261] === 0x72 && h[262] === 0;

// "ustar  \0" (GNU and old GNU) at 257
const isGnu = (h: Buffer): boolean =>
  h[257] === 0x75 &&
  h[258] === 0x73 &&
  h[259] === 0x74 &&
  h[260] === 0x61 &&
  h[261] === 0x72 &&
  h[262] === 0x20 &&
  h[263] === 0x20 &&
  h[264] === 0;

/** A NUL-terminated UTF-8 field. */
function text(h: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && h[end] !== 0) end++;
  return h.toString('utf8', off, end);
}

function mergeXattrs(
  global: Map<string, Buffer> | null,
  local: Map<string, Buffer> | null,
): Map<string, Buffer> | null {
  if (!global) return local;
  if (!local) return new Map(global);
  return new Map([...global, ...local]);
}

const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

const invalid = (what: string): BerthError =>
  new BerthError('LAYER_INVALID_TAR', `layer tar: ${what}`, { input: { field: 'tar' } });

/**
 * A strict numeric header field (size, checksum): octal text padded with NULs or spaces, or GNU
 * base-256 when the high bit of the first byte is set; -1 when it is neither.
 */
function parseNumber(h: Buffer, off: number, len: number): number {
  if ((h[off] as number) & 0x80) {
    if (h[off] === 0xff) return -1; // negative base-256
    let v = (h[off] as number) & 0x7f;
    for (let k = 1; k < len; k++) v = v * 256 + (h[off + k] as number);
    return v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (h[i] === 0x20 || h[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const b = h[i] as number;
    if (b < 0x30 || b > 0x37) break;
    v = v * 8 + (b - 0x30);
    digits++;
  }
  for (; i < end; i++) if (h[i] !== 0x20 && h[i] !== 0) return -1;
  return digits === 0 ? 0 : v;
}

/**
 * A lenient numeric field (mode, ids, times, device numbers), as tar-stream and Go read them:
 * base-256, or the octal digits after leading spaces and NULs up to the first other byte.
 */
function octal(h: Buffer, off: number, len: number): number {
  const first = h[off] as number;
  if (first & 0x80) {
    const neg = first === 0xff;
    let v = neg ? 0 : first & 0x7f;
    for (let k = 1; k < len; k++)
      v = v * 256 + (neg ? 0xff - (h[off + k] as number) : (h[off + k] as number));
    return neg ? -v : v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (h[i] === 0x20 || h[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const b = h[i] as number;
    if (b < 0x30 || b > 0x37) break;
    v = v * 8 + (b - 0x30);
  }
  return v;
}

function paxInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,10}$/.test(v)) return undefined;
  return Number(v);
}

function paxTime(v: string | undefined): Date | undefined {
  if (v === undefined || !/^-?\d{1,12}(\.\d+)?$/.test(v)) return undefined;
  return new Date(Number(v) * 1000);
}

/**
 * Parses PAX records (`"%d %s=%s\n"`, the length counting the whole record) keeping values as
 * bytes. A malformed record fails the layer.
 */
export function parsePaxRecords(buf: Buffer, entry: number): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  let i = 0;
  while (i < buf.byteLength) {
    if (buf[i] === 0) break; // NUL padding after the last record
    const sp = buf.indexOf(0x20, i);
    const lenText = sp < 0 ? '' : buf.subarray(i, sp).toString('latin1');
    const len = /^\d{1,9}$/.test(lenText) ? Number(lenText) : Number.NaN;
    if (!(len > sp - i + 1) || i + len > buf.byteLength || buf[i + len - 1] !== 0x0a) {
      throw invalid(`malformed PAX record before entry ${entry}`);
    }
    const rec = buf.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw invalid(`malformed PAX record before entry ${entry}`);
    out.push([rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1))]);
    i += len;
  }
  return out;
}
