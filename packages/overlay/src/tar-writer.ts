import { createReadStream } from 'node:fs';

/** One entry for {@link tarEntry}: what a deterministic layer tar records, nothing more. */
export interface TarEntryHeader {
  /** Path, relative, no leading `./`; directories without the trailing slash. */
  name: string;
  /** Entry type. */
  type: 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';
  /** Permission bits, setuid/setgid/sticky included (0 is kept as 0). */
  mode: number;
  /** Owner. */
  uid: number;
  /** Group. */
  gid: number;
  /** Content size (files only). */
  size: number;
  /** Modification time, whole seconds. */
  mtime: number;
  /** Hardlink or symlink target. */
  linkname?: string;
  /** Device numbers. */
  devmajor?: number;
  /** Device numbers. */
  devminor?: number;
  /** xattrs, written as PAX `SCHILY.xattr.NAME` with byte-exact values. */
  xattrs?: [string, Buffer][];
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryHeader['type'] | 'pax', number> = {
  file: 0x30,
  link: 0x31,
  symlink: 0x32,
  'character-device': 0x33,
  'block-device': 0x34,
  directory: 0x35,
  fifo: 0x36,
  pax: 0x78,
};
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

const ascii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** Splits a name into ustar prefix (≤155) and name (≤100) at a `/`, or null when impossible. */
export function ustarSplit(name: string): { prefix: string; name: string } | null {
  if (!ascii(name)) return null;
  if (name.length <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
      return { prefix: name.slice(0, i), name: name.slice(i + 1) };
    }
  }
  return null;
}

function octal(buf: Buffer, off: number, width: number, value: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\0`, off, width, 'latin1');
}

function header(
  fields: {
    name: string;
    prefix: string;
    mode: number;
    uid: number;
    gid: number;
    size: number;
    mtime: number;
  },
  typeflag: number,
  linkname: string,
  devmajor: number,
  devminor: number,
): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(fields.name, 0, 100, 'latin1');
  octal(b, 100, 8, fields.mode & 0o7777);
  octal(b, 108, 8, fields.uid);
  octal(b, 116, 8, fields.gid);
  octal(b, 124, 12, fields.size);
  octal(b, 136, 12, fields.mtime);
  b[156] = typeflag;
  b.write(linkname, 157, 100, 'latin1');
  b.write('ustar\x0000', 257, 8, 'latin1');
  octal(b, 329, 8, devmajor);
  octal(b, 337, 8, devminor);
  b.write(fields.prefix, 345, 155, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** PAX records `"%d %s=%s\n"`, the length counting the whole record, values as raw bytes. */
export function paxRecords(records: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of records) {
    const body = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from('\n')]);
    let len = body.byteLength + 1;
    while (String(len).length + body.byteLength !== len) len = String(len).length + body.byteLength;
    parts.push(Buffer.from(String(len)), body);
  }
  return Buffer.concat(parts);
}

const padding = (n: number): Buffer => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/** A short ASCII stand-in for a name carried by PAX (readers without PAX see it). */
const standIn = (s: string): string => s.replace(/[^\x20-\x7e]/g, '_').slice(-99);

/**
 * Yields the blocks of one tar entry: a PAX header when needed (long or non-ASCII names and
 * link names, large ids or sizes, xattrs), the ustar header, then the file's content from
 * `file` and its padding. Hand-written rather than tar-stream's pack because that encodes PAX
 * values as UTF-8 text (binary xattrs such as security.capability would be corrupted) and
 * turns mode 0 into 0644.
 */
export async function* tarEntry(h: TarEntryHeader, file: string | null): AsyncGenerator<Buffer> {
  const records: [string, Buffer][] = [];
  const fullName = h.type === 'directory' ? `${h.name}/` : h.name;
  let split = ustarSplit(fullName);
  if (split === null) {
    records.push(['path', Buffer.from(fullName)]);
    split = { prefix: '', name: standIn(fullName) };
  }
  let linkname = h.linkname ?? '';
  if (!ascii(linkname) || linkname.length > 100) {
    records.push(['linkpath', Buffer.from(linkname)]);
    linkname = standIn(linkname);
  }
  let { uid, gid, size } = h;
  if (uid > MAX_OCTAL_7) {
    records.push(['uid', Buffer.from(String(uid))]);
    uid = 0;
  }
  if (gid > MAX_OCTAL_7) {
    records.push(['gid', Buffer.from(String(gid))]);
    gid = 0;
  }
  if (size > MAX_OCTAL_11) {
    records.push(['size', Buffer.from(String(size))]);
    size = 0;
  }
  for (const [k, v] of h.xattrs ?? []) records.push([`SCHILY.xattr.${k}`, v]);
  if (records.length > 0) {
    const body = paxRecords(records);
    yield header(
      {
        name: standIn(`PaxHeaders/${h.name}`),
        prefix: '',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: body.byteLength,
        mtime: h.mtime,
      },
      TYPEFLAG.pax,
      '',
      0,
      0,
    );
    yield Buffer.concat([body, padding(body.byteLength)]);
  }
  yield header(
    { ...split, mode: h.mode, uid, gid, size, mtime: h.mtime },
    TYPEFLAG[h.type],
    linkname,
    h.devmajor ?? 0,
    h.devminor ?? 0,
  );
  if (h.type !== 'file' || file === null || h.size === 0) return;
  let written = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const c = chunk as Buffer;
    const n = Math.min(c.byteLength, h.size - written);
    if (n > 0) yield n === c.byteLength ? c : c.subarray(0, n);
    written += n;
  }
  if (written !== h.size)
    throw new Error(`${h.name}: file shrank while being read (${written} of ${h.size} bytes)`);
  yield padding(h.size);
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
