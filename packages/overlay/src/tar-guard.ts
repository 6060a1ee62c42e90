import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BerthError } from '@berth/oci';
import { MAX_TAR_META_BYTES } from './errors.js';

const BLOCK = 512;
const META_TYPES = new Set([0x78 /* x */, 0x67 /* g */, 0x4c /* L */, 0x4b /* K */]);
const XATTR_PREFIX = 'SCHILY.xattr.';

/** Raw PAX facts about one tar entry that tar-stream decodes lossily (it reads values as UTF-8). */
export interface RawPax {
  /** `SCHILY.xattr.NAME` records, values as the exact bytes in the archive. */
  xattrs: Map<string, Buffer>;
}

/**
 * A pass-through in front of tar-stream that sees every byte of the uncompressed layer:
 * - hashes all of it (the diffID covers the whole blob, padding and trailing bytes included);
 * - caps PAX and GNU long-name headers at {@link MAX_TAR_META_BYTES} before anything buffers them;
 * - keeps the raw bytes of `SCHILY.xattr.*` records (xattr values are binary, e.g. security.capability);
 * - stops forwarding at the end-of-archive block, so trailing bytes are hashed but never parsed;
 * - refuses header-only entry types (links, devices, fifos) that claim data, which parsers
 *   disagree on (Go skips it, tar-stream reads it), so this scan and tar-stream never diverge.
 * Entries are counted in the order tar-stream emits them, so `takePax(n)` pairs with entry `n`.
 */
export class TarGuard extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of the current entry's data and padding still to pass through. */
  private skip = 0;
  /** The PAX/long-name payload being collected, when in one. */
  private meta: { type: number; chunks: Buffer[]; left: number; pad: number } | null = null;
  private pendingXattrs: Map<string, Buffer> | null = null;
  private pendingSize: number | null = null;
  private globalXattrs: Map<string, Buffer> | null = null;
  private entries = 0;
  private ended = false;
  private readonly pax = new Map<number, RawPax>();

  /** Digest (`sha256:…`) of every byte seen; valid once the stream has ended. */
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }

  /** Number of uncompressed bytes seen. */
  get size(): number {
    return this.bytes;
  }

  /** The raw PAX facts of entry `n` (0-based, in tar-stream's emit order), removed once taken. */
  takePax(n: number): RawPax | undefined {
    const p = this.pax.get(n);
    this.pax.delete(n);
    return p;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    if (this.ended) {
      cb();
      return;
    }
    try {
      const forward = this.scan(chunk);
      if (forward.byteLength > 0) this.push(forward);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  /** Walks the chunk's headers; returns the part to forward (all of it until end-of-archive). */
  private scan(chunk: Buffer): Buffer {
    let i = 0;
    while (i < chunk.byteLength) {
      if (this.meta) {
        const m = this.meta;
        if (m.left > 0) {
          const n = Math.min(m.left, chunk.byteLength - i);
          m.chunks.push(chunk.subarray(i, i + n));
          m.left -= n;
          i += n;
          if (m.left === 0) this.finishMeta(m.type, Buffer.concat(m.chunks));
          continue;
        }
        const n = Math.min(m.pad, chunk.byteLength - i);
        m.pad -= n;
        i += n;
        if (m.pad === 0) this.meta = null;
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.byteLength - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.byteLength - i);
      chunk.copy(this.header, this.headerFill, i, i + n);
      this.headerFill += n;
      i += n;
      if (this.headerFill < BLOCK) continue;
      this.headerFill = 0;
      if (this.onHeader(this.header)) {
        this.ended = true;
        return chunk.subarray(0, i);
      }
    }
    return chunk;
  }

  /** Handles one 512-byte header; returns true at the end-of-archive block. */
  private onHeader(h: Buffer): boolean {
    if (h.every((b) => b === 0)) return true;
    // POSIX sums unsigned bytes; some old tars summed signed ones (Go's archive/tar accepts both)
    let sum = 0;
    let signed = 0;
    for (let k = 0; k < BLOCK; k++) {
      const b = k >= 148 && k < 156 ? 0x20 : h[k]!;
      sum += b;
      signed += b > 127 ? b - 256 : b;
    }
    const want = parseNumber(h, 148, 8);
    if (want !== sum && want !== signed) throw invalid(`bad header checksum at byte ${this.bytes}`);
    const type = h[156]!;
    const size = parseNumber(h, 124, 12);
    if (size < 0) throw invalid(`bad size field at byte ${this.bytes}`);
    if (META_TYPES.has(type)) {
      if (size > MAX_TAR_META_BYTES) {
        throw new BerthError(
          'LAYER_HEADER_TOO_LARGE',
          `layer tar: ${type === 0x78 || type === 0x67 ? 'PAX' : 'GNU long-name'} header of ${size} bytes before entry ${this.entries} exceeds the ${MAX_TAR_META_BYTES}-byte cap`,
          { input: { field: `entry ${this.entries}` } },
        );
      }
      this.meta = { type, chunks: [], left: size, pad: pad(size) };
      if (size === 0) this.finishMeta(type, Buffer.alloc(0));
      return false;
    }
    // a regular entry, as tar-stream will emit it
    const dataSize = this.pendingSize ?? size;
    const headerOnly = type >= 0x31 && type <= 0x36 && type !== 0x35; // 1 link, 2 symlink, 3 chr, 4 blk, 6 fifo
    if (headerOnly && dataSize > 0) {
      throw invalid(
        `entry ${this.entries} of type '${String.fromCharCode(type)}' claims ${dataSize} data bytes`,
      );
    }
    const xattrs = mergeXattrs(this.globalXattrs, this.pendingXattrs);
    if (xattrs) this.pax.set(this.entries, { xattrs });
    this.pendingXattrs = null;
    this.pendingSize = null;
    this.entries++;
    this.skip = type === 0x35 ? 0 : dataSize + pad(dataSize);
    return false;
  }

  private finishMeta(type: number, payload: Buffer): void {
    if (type !== 0x78 && type !== 0x67) return; // GNU long names: tar-stream decodes them
    const records = parsePaxRecords(payload, this.entries);
    const xattrs = new Map<string, Buffer>();
    for (const [key, value] of records) {
      if (key.startsWith(XATTR_PREFIX)) xattrs.set(key.slice(XATTR_PREFIX.length), value);
      else if (key === 'size' && type === 0x78) {
        const text = value.toString('latin1');
        if (!/^\d{1,15}$/.test(text)) throw invalid(`bad PAX size ${JSON.stringify(text)}`);
        this.pendingSize = Number(text);
      }
    }
    if (type === 0x67) this.globalXattrs = xattrs.size > 0 ? xattrs : null;
    else this.pendingXattrs = xattrs.size > 0 ? xattrs : null;
  }
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

/** A numeric header field: octal text, or GNU base-256 when the high bit of the first byte is set. */
function parseNumber(h: Buffer, off: number, len: number): number {
  if (h[off]! & 0x80) {
    if (h[off] === 0xff) return -1; // negative base-256
    let v = h[off]! & 0x7f;
    for (let k = 1; k < len; k++) v = v * 256 + h[off + k]!;
    return v;
  }
  const text = h
    .subarray(off, off + len)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^[\0 ]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return -1;
  return Number.parseInt(text, 8);
}

/**
 * Parses PAX records (`"%d %s=%s\n"`, the length counting the whole record) keeping values as
 * bytes. A malformed record fails the layer: tolerating it would let this scan and tar-stream
 * read different headers.
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
