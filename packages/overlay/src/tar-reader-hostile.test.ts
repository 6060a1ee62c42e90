// Hostile and odd tars against the synchronous reader (review of #4). Every layer byte is hostile:
// a header read differently from how docker reads it is a different image. The reference is
// docker's own reader, Go's archive/tar (the Go toolchain runs a small program over the same bytes),
// and GNU tar writes the well-formed archives compared.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isBerthError } from '@berth/oci';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TAR_META_BYTES } from './errors.js';
import { paxRecords } from './tar-writer.js';
import { readInChunks, readPieces, type Seen } from './testing/tar-read.js';

// ---------------------------------------------------------------------------------------------
// building raw tars

interface Raw {
  name?: string | Buffer;
  mode?: string | Buffer;
  uid?: string | Buffer;
  gid?: string | Buffer;
  size?: string | Buffer;
  mtime?: string | Buffer;
  type?: string;
  linkname?: string | Buffer;
  magic?: 'ustar' | 'gnu' | 'star' | 'v7';
  devmajor?: string | Buffer;
  devminor?: string | Buffer;
  prefix?: string | Buffer;
  /** Bytes placed at offsets after everything else, before the checksum. */
  at?: [number, Buffer][];
  /** Checksum: 'unsigned' (default), 'signed', or the field's raw bytes. */
  sum?: 'unsigned' | 'signed' | Buffer;
}

const put = (b: Buffer, off: number, len: number, v: string | Buffer | undefined): void => {
  if (v === undefined) return;
  const src = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
  src.copy(b, off, 0, Math.min(len, src.length));
};

function header(r: Raw): Buffer {
  const b = Buffer.alloc(512);
  put(b, 0, 100, r.name ?? 'f');
  put(b, 100, 8, r.mode ?? '0000644\0');
  put(b, 108, 8, r.uid ?? '0000000\0');
  put(b, 116, 8, r.gid ?? '0000000\0');
  put(b, 124, 12, r.size ?? '00000000000\0');
  put(b, 136, 12, r.mtime ?? '07346545000\0'); // 2000-01-01
  b[156] = (r.type ?? '0').charCodeAt(0);
  put(b, 157, 100, r.linkname);
  const magic = r.magic ?? 'ustar';
  if (magic === 'ustar' || magic === 'star') put(b, 257, 8, 'ustar\x0000');
  if (magic === 'star') put(b, 508, 4, 'tar\0');
  if (magic === 'gnu') put(b, 257, 8, 'ustar  \0');
  if (magic !== 'v7') {
    put(b, 329, 8, r.devmajor ?? '0000000\0');
    put(b, 337, 8, r.devminor ?? '0000000\0');
  }
  put(b, 345, 155, r.prefix);
  for (const [off, v] of r.at ?? []) v.copy(b, off);
  b.fill(0x20, 148, 156);
  if (Buffer.isBuffer(r.sum)) {
    r.sum.copy(b, 148);
    return b;
  }
  let sum = 0;
  for (let k = 0; k < 512; k++) {
    const v = b[k] as number;
    sum += r.sum === 'signed' && v > 127 ? v - 256 : v;
  }
  const text = sum < 0 ? `-${(-sum).toString(8)}` : sum.toString(8);
  put(b, 148, 8, `${text.padStart(6, '0')}\0 `);
  return b;
}

const octal = (n: number, width: number): string => `${n.toString(8).padStart(width - 1, '0')}\0`;

/** A base-256 field: 0x80 (or two's complement for a negative value) then big-endian bytes. */
function base256(n: bigint, width: number): Buffer {
  const b = Buffer.alloc(width);
  let v = n < 0n ? (1n << BigInt(8 * width)) + n : n;
  for (let k = width - 1; k >= 0; k--) {
    b[k] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[0] = (b[0] as number) | 0x80;
  return b;
}

const padTo512 = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** A file entry: header and padded data. */
const file = (name: string, data: string | Buffer, more: Raw = {}): Buffer => {
  const d = Buffer.from(data);
  return Buffer.concat([header({ name, size: octal(d.length, 12), ...more }), padTo512(d)]);
};

/** A PAX (`x`) or global (`g`) header with its records. */
const pax = (records: [string, string | Buffer][], type = 'x'): Buffer => {
  const body = paxRecords(records.map(([k, v]) => [k, Buffer.from(v)]));
  return Buffer.concat([header({ name: 'PaxHeader', type, size: octal(body.length, 12) }), padTo512(body)]);
};

/** A PAX header whose body is given raw. */
const paxRaw = (body: string | Buffer, type = 'x'): Buffer => {
  const b = Buffer.from(body);
  return Buffer.concat([header({ name: 'PaxHeader', type, size: octal(b.length, 12) }), padTo512(b)]);
};

/** A GNU long name (`L`) or link (`K`) header. */
const gnuLong = (value: string | Buffer, type = 'L'): Buffer => {
  const b = Buffer.from(value);
  return Buffer.concat([
    header({ name: '././@LongLink', type, size: octal(b.length, 12), magic: 'gnu' }),
    padTo512(b),
  ]);
};

const EOA = Buffer.alloc(1024);
const tar = (...parts: Buffer[]): Buffer => Buffer.concat([...parts, EOA]);

// ---------------------------------------------------------------------------------------------
// reading

const read = readInChunks;

const refusal = async (bytes: Buffer): Promise<unknown> =>
  read(bytes).then(
    () => null,
    (e: unknown) => e,
  );

async function expectInvalid(bytes: Buffer, message?: RegExp, code = 'LAYER_INVALID_TAR'): Promise<void> {
  const err = await refusal(bytes);
  expect(isBerthError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  if (message) expect((err as Error).message).toMatch(message);
}

const one = async (bytes: Buffer): Promise<Seen> => {
  const { seen } = await read(bytes);
  expect(seen).toHaveLength(1);
  return seen[0] as Seen;
};

// ---------------------------------------------------------------------------------------------
// the reference: Go's archive/tar, as docker and containerd call it

const GO_READER = `package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strings"
)

type entry struct {
	Name     string            \`json:"name"\`
	Type     string            \`json:"type"\`
	Mode     int64             \`json:"mode"\`
	Uid      int               \`json:"uid"\`
	Gid      int               \`json:"gid"\`
	Size     int64             \`json:"size"\`
	Mtime    int64             \`json:"mtime"\`
	Linkname string            \`json:"linkname"\`
	Devmajor int64             \`json:"devmajor"\`
	Devminor int64             \`json:"devminor"\`
	Xattrs   map[string]string \`json:"xattrs"\`
	Data     string            \`json:"data"\`
}

type result struct {
	Entries []entry \`json:"entries"\`
	Error   string  \`json:"error"\`
}

func main() {
	out := []result{}
	for _, p := range os.Args[1:] {
		f, err := os.Open(p)
		if err != nil {
			panic(err)
		}
		tr := tar.NewReader(f)
		r := result{Entries: []entry{}}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Error = err.Error()
				break
			}
			if h.Typeflag == tar.TypeXGlobalHeader {
				continue // docker and containerd ignore it
			}
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				r.Error = err.Error()
				break
			}
			x := map[string]string{}
			for k, v := range h.PAXRecords {
				if strings.HasPrefix(k, "SCHILY.xattr.") {
					x[k[len("SCHILY.xattr."):]] = base64.StdEncoding.EncodeToString([]byte(v))
				}
			}
			mtime := h.ModTime.Unix() // docker's boundTime
			if mtime < 0 || mtime > 9223372036 {
				mtime = 0
			}
			r.Entries = append(r.Entries, entry{h.Name, string([]byte{h.Typeflag}), h.Mode, h.Uid, h.Gid,
				h.Size, mtime, h.Linkname, h.Devmajor, h.Devminor, x, hex.EncodeToString(sum.Sum(nil))})
		}
		f.Close()
		out = append(out, r)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`;

interface GoResult {
  entries: Record<string, unknown>[];
  error: string;
}

let work: string;

beforeAll(() => {
  work = mkdtempSync(`${tmpdir()}/berth-tar-hostile-`);
  writeFileSync(`${work}/reader.go`, GO_READER);
  execFileSync('go', ['build', '-o', `${work}/go-tar-reader`, `${work}/reader.go`], {
    env: { ...process.env, GO111MODULE: 'off' },
    stdio: 'pipe',
  });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** Go's reading of each archive. */
function goRead(archives: Buffer[]): GoResult[] {
  const paths = archives.map((a, i) => {
    const p = `${work}/a${i}.tar`;
    writeFileSync(p, a);
    return p;
  });
  return JSON.parse(
    execFileSync(`${work}/go-tar-reader`, paths, { encoding: 'utf8', maxBuffer: 64 << 20 }),
  ) as GoResult[];
}

const TYPE_FLAG: Record<string, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
  'contiguous-file': '7',
};

/** berth's reading, in the Go program's shape. */
async function berthRead(archive: Buffer): Promise<GoResult> {
  try {
    const { seen } = await read(archive, 4096);
    return {
      entries: seen.map(({ header: h, data }) => ({
        name: h.name,
        type: typeof h.type === 'string' ? TYPE_FLAG[h.type] : h.type.unknown,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        size: h.size,
        mtime: Math.floor(h.mtime.getTime() / 1000),
        linkname: h.linkname,
        devmajor: h.devmajor,
        devminor: h.devminor,
        xattrs: Object.fromEntries([...(h.xattrs ?? [])].map(([k, v]) => [k, v.toString('base64')])),
        data: createHash('sha256').update(data).digest('hex'),
      })),
      error: '',
    };
  } catch (err) {
    return { entries: [], error: String(err) };
  }
}

/** Both readers accept and agree entry by entry, or both refuse. */
async function expectSameAsGo(cases: Record<string, Buffer>): Promise<void> {
  const names = Object.keys(cases);
  const go = goRead(Object.values(cases));
  for (const [i, name] of names.entries()) {
    const ours = await berthRead(cases[name] as Buffer);
    const theirs = go[i] as GoResult;
    if (theirs.error !== '' || ours.error !== '') {
      expect([name, ours.error !== '', theirs.error !== ''], `${ours.error} / ${theirs.error}`).toEqual([
        name,
        true,
        true,
      ]);
      continue;
    }
    expect([name, ours.entries]).toEqual([name, theirs.entries]);
  }
}

// ---------------------------------------------------------------------------------------------

describe('tar reader: headers', () => {
  it('accepts unsigned and signed checksums, refuses others and base-256 ones (as Go)', async () => {
    const name = Buffer.from('é-naïve'); // bytes over 0x7f: the two sums differ
    expect((await one(tar(header({ name })))).header.name).toBe('é-naïve');
    expect((await one(tar(header({ name, sum: 'signed' })))).header.name).toBe('é-naïve');
    await expectInvalid(tar(header({ name, sum: Buffer.from('0000000\0') })), /checksum/);
    const good = header({ name });
    const sum = Number.parseInt(good.toString('latin1', 148, 154), 8);
    await expectInvalid(tar(header({ name, sum: base256(BigInt(sum), 8) })), /checksum/);
  });

  it('reads octal fields padded with spaces and NULs, cut at a NUL, and refuses other bytes', async () => {
    const h = await one(
      tar(
        header({
          mode: '  644 \0\0',
          uid: '\0\0  12  ',
          gid: '7\0garbag',
          mtime: '\0\0\0\0\0\0\0\0\0\0\0\0',
        }),
      ),
    );
    expect(h.header).toMatchObject({ mode: 0o644, uid: 0o12, gid: 7 });
    expect(h.header.mtime.getTime()).toBe(0);
    for (const bad of ['06 44\0\0\0', '0000648\0', '+000644\0', '-000644\0', '0x1f\0\0\0\0']) {
      await expectInvalid(tar(header({ mode: bad })), /bad mode field/);
    }
    await expectInvalid(tar(header({ uid: '1 2\0' })), /bad uid field/);
    await expectInvalid(tar(header({ devmajor: '9\0' })), /bad devmajor field/);
    await expectInvalid(tar(header({ size: '0000000001x\0' })), /bad size field/);
  });

  it('reads base-256 numbers (GNU), negative ones in two’s complement, and refuses sizes past 2^53', async () => {
    const big = 0o77777777777 + 10; // past 11 octal digits
    const h = await one(
      tar(header({ uid: base256(2_000_000_000n, 8), gid: base256(5n, 8), mtime: base256(BigInt(big), 12) })),
    );
    expect(h.header).toMatchObject({ uid: 2_000_000_000, gid: 5 });
    expect(h.header.mtime.getTime()).toBe(big * 1000);
    // a negative mtime: -1 s is the epoch for docker and containerd (boundTime), as for berth
    const neg = await one(tar(header({ mtime: base256(-1n, 12) })));
    expect(neg.header.mtime.getTime()).toBe(0);
    // a base-256 uid of -1 is -1 (was read as 0 by an off-by-one), -2 is -2
    expect((await one(tar(header({ uid: base256(-1n, 8) })))).header.uid).toBe(-1);
    expect((await one(tar(header({ uid: base256(-2n, 8) })))).header.uid).toBe(-2);
    // negative sizes, with the sign bit alone (0xc0…) or all ones
    await expectInvalid(tar(header({ size: base256(-1n, 12) })), /bad size field/);
    await expectInvalid(tar(header({ size: base256(-(1n << 80n), 12) })), /bad size field/);
    // huge sizes: past Number.MAX_SAFE_INTEGER, and past Go's 2^63
    await expectInvalid(tar(header({ size: base256(2n ** 53n + 1n, 12) })), /bad size field/);
    await expectInvalid(tar(header({ size: base256(2n ** 70n, 12) })), /bad size field/);
    // a 12-digit octal size (no NUL) is fine: 68 GB of data would follow; here the stream ends
    await expectInvalid(tar(header({ size: '777777777777' })), /unexpected end/);
  });

  it('joins the ustar prefix, takes 100-byte names without NUL, cuts names at NUL', async () => {
    const n100 = 'n'.repeat(100);
    const p155 = 'p'.repeat(155);
    expect((await one(tar(header({ name: n100, prefix: p155 })))).header.name).toBe(`${p155}/${n100}`);
    expect((await one(tar(header({ name: 'a\0b', prefix: 'dir\0x' })))).header.name).toBe('dir/a');
    // star (trailer "tar\0" at 508): a 131-byte prefix, atime and ctime after it
    const star = header({
      magic: 'star',
      name: 'f',
      prefix: 'q'.repeat(131),
      at: [[476, Buffer.from('1234')]],
    });
    expect((await one(tar(star))).header.name).toBe(`${'q'.repeat(131)}/f`);
  });

  it('GNU headers: no prefix, unless atime/ctime do not parse (Go before 1.8 wrote a prefix there)', async () => {
    // valid atime and ctime: no prefix, the atime is read
    const atime = octal(1_000_000_000, 12);
    const gnu = await one(tar(header({ magic: 'gnu', name: 'f', prefix: atime })));
    expect(gnu.header.name).toBe('f');
    expect(gnu.header.atime.getTime()).toBe(1_000_000_000_000);
    // not numbers: the old Go writer's prefix
    expect((await one(tar(header({ magic: 'gnu', name: 'f', prefix: 'usr/lib' })))).header.name).toBe(
      'usr/lib/f',
    );
  });

  it('reads V7 headers (no magic) as Go does: no prefix, no device numbers', async () => {
    const h = await one(
      tar(header({ magic: 'v7', name: 'old', prefix: 'ignored', at: [[329, Buffer.from('x')]] })),
    );
    expect(h.header).toMatchObject({ name: 'old', type: 'file', devmajor: 0, devminor: 0 });
  });

  it('refuses names, prefixes and link targets that are not UTF-8', async () => {
    await expectInvalid(tar(header({ name: Buffer.from([0x61, 0xe9]) })), /name of entry 0 is not UTF-8/);
    await expectInvalid(tar(header({ name: 'a', prefix: Buffer.from([0xff]) })), /not UTF-8/);
    await expectInvalid(tar(header({ type: '2', linkname: Buffer.from([0xc3]) })), /link name/);
    await expectInvalid(tar(pax([['path', Buffer.from([0x80])]]), header({})), /PAX path/);
    await expectInvalid(tar(pax([['linkpath', Buffer.from([0xfe])]]), header({ type: '2' })), /PAX linkpath/);
    await expectInvalid(tar(gnuLong(Buffer.from([0x61, 0xc0, 0])), header({})), /GNU long name/);
    const rec = Buffer.concat([Buffer.from(' SCHILY.xattr.user.'), Buffer.from([0xff]), Buffer.from('=v\n')]);
    const xattrRecord = Buffer.concat([Buffer.from(String(rec.length + 2)), rec]);
    await expectInvalid(tar(paxRaw(xattrRecord), header({})), /xattr name/);
    // a regular file's link-name field is not read; a PAX path overrides a header stand-in
    expect((await one(tar(header({ linkname: Buffer.from([0xff]) })))).header.linkname).toBe('');
    const cut = Buffer.from('é'.repeat(60)).subarray(0, 99);
    expect((await one(tar(pax([['path', 'é'.repeat(60)]]), header({ name: cut })))).header.name).toBe(
      'é'.repeat(60),
    );
  });

  it('types: NUL with a trailing slash is a directory, "0" with one is a file (Go)', async () => {
    expect((await one(tar(header({ name: 'd/', type: '\0' })))).header.type).toBe('directory');
    expect((await one(tar(header({ name: 'd/', type: '0' })))).header.type).toBe('file');
    expect((await one(tar(header({ type: 'V' })))).header.type).toEqual({ unknown: 'V' });
    await expectInvalid(tar(header({ type: 'S', magic: 'gnu' })), /GNU sparse/);
    await expectInvalid(tar(pax([['GNU.sparse.major', '1']]), header({})), /GNU sparse/);
    await expectInvalid(tar(pax([['GNU.sparse.map', '0,1']]), header({})), /GNU sparse/);
  });
});

describe('tar reader: PAX and GNU long names', () => {
  it('refuses PAX records with bad lengths', async () => {
    for (const body of [
      '5 path=abc\n', // shorter than the record
      '50 path=abc\n', // longer than the header data
      '0 path=abc\n',
      '00 path=abc\n',
      'x1 path=a\n',
      '+11 path=a\n',
      ' 11 path=a\n',
      '11path=abc\n',
      '12 path=abc\n\0\0\0\0', // NUL padding inside the size: Go refuses
      '9 noequal\n',
      '7 =abc\n',
      '12 path=abc',
    ]) {
      await expectInvalid(tar(paxRaw(body), header({})), /malformed PAX record/);
    }
    // leading zeros are fine (Go's ParseInt)
    expect((await one(tar(paxRaw('0013 path=ab\n'), header({})))).header.name).toBe('ab');
  });

  it('applies path, linkpath, size, uid, gid, mtime and atime overrides; the last duplicate wins', async () => {
    const h = await one(
      tar(
        pax([
          ['path', 'first'],
          ['path', 'long/'.repeat(60) + 'name'],
          ['uid', '70000000'],
          ['gid', '-1'],
          ['mtime', '1700000000.5'],
          ['atime', '1800000000'],
        ]),
        header({ name: 'stand-in' }),
      ),
    );
    expect(h.header).toMatchObject({ name: `${'long/'.repeat(60)}name`, uid: 70000000, gid: -1 });
    expect(h.header.mtime.getTime()).toBe(1_700_000_000_500);
    expect(h.header.atime.getTime()).toBe(1_800_000_000_000);
    const l = await one(tar(pax([['linkpath', 't'.repeat(300)]]), header({ type: '2', linkname: 'x' })));
    expect(l.header.linkname).toBe('t'.repeat(300));
    const data = Buffer.alloc(700, 0x41);
    const s = await one(tar(pax([['size', '700']]), header({ size: octal(1, 12) }), padTo512(data)));
    expect(s.data.equals(data)).toBe(true);
  });

  it('an empty PAX value keeps the header’s (Go), and malformed numbers fail', async () => {
    const h = await one(
      tar(
        pax([
          ['path', ''],
          ['uid', ''],
          ['size', ''],
        ]),
        header({ name: 'kept', uid: octal(5, 8) }),
      ),
    );
    expect(h.header).toMatchObject({ name: 'kept', uid: 5 });
    for (const [k, v] of [
      ['uid', 'abc'],
      ['gid', '1.5'],
      ['mtime', '12x'],
      ['atime', '--1'],
      ['size', '-1'],
      ['size', '1e3'],
    ] as const) {
      await expectInvalid(tar(pax([[k, v]]), header({})), new RegExp(`bad PAX ${k}`));
    }
  });

  it('keeps binary xattr values byte-exact, empty ones too', async () => {
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0x0a, 0x3d, 0x00, 0x20]);
    const h = await one(
      tar(
        pax([
          ['SCHILY.xattr.security.capability', cap],
          ['SCHILY.xattr.user.empty', ''],
        ]),
        header({}),
      ),
    );
    expect(h.header.xattrs?.get('security.capability')).toEqual(cap);
    expect(h.header.xattrs?.get('user.empty')).toEqual(Buffer.alloc(0));
  });

  it('ignores global headers altogether, and what was pending before one (Go hands it out, docker skips it)', async () => {
    const { seen } = await read(
      tar(
        pax(
          [
            ['SCHILY.xattr.user.g', 'global'],
            ['path', 'gpath'],
          ],
          'g',
        ),
        header({ name: 'a' }),
        pax([['path', 'lost']]),
        pax([['uid', '9']], 'g'),
        header({ name: 'b' }),
      ),
    );
    expect(seen.map((s) => [s.header.name, s.header.uid, s.header.xattrs])).toEqual([
      ['a', 0, null],
      ['b', 0, null],
    ]);
    await expectInvalid(tar(paxRaw('9 garbage', 'g'), header({})), /malformed PAX/);
  });

  it('a PAX or long-name header at the end applies to nothing', async () => {
    for (const meta of [pax([['path', 'x']]), gnuLong('x'), pax([['path', 'x']], 'g')]) {
      expect((await read(tar(meta))).seen).toEqual([]);
      expect((await read(meta)).seen).toEqual([]); // no end-of-archive blocks: a clean EOF in Go too
      await expectInvalid(meta.subarray(0, 600), /unexpected end/);
    }
  });

  it('GNU long names and links: NUL-terminated, capped, an empty one keeps the header’s', async () => {
    const long = 'd/'.repeat(200) + 'f';
    const h = await one(tar(gnuLong(`${long}\0junk`), gnuLong('t'.repeat(500), 'K'), header({ type: '1' })));
    expect(h.header).toMatchObject({ name: long, linkname: 't'.repeat(500), type: 'link' });
    expect((await one(tar(gnuLong(''), header({ name: 'kept' })))).header.name).toBe('kept');
    // PAX wins over a long name
    expect((await one(tar(gnuLong('gnu'), pax([['path', 'pax']]), header({})))).header.name).toBe('pax');
    const over = header({
      name: '././@LongLink',
      type: 'L',
      size: octal(MAX_TAR_META_BYTES + 1, 12),
      magic: 'gnu',
    });
    await expectInvalid(tar(over), /exceeds/, 'LAYER_HEADER_TOO_LARGE');
  });
});

describe('tar reader: data and the end of the archive', () => {
  const sample = (): Buffer =>
    tar(
      file('empty', ''),
      file('one', 'x'),
      file('b511', Buffer.alloc(511, 1)),
      file('b512', Buffer.alloc(512, 2)),
      file('b513', Buffer.alloc(513, 3)),
      pax([
        ['path', `${'p'.repeat(150)}/file`],
        ['SCHILY.xattr.user.k', Buffer.from([0, 1, 2])],
      ]),
      file('ignored', Buffer.alloc(1000, 4)),
      gnuLong('gnu/long/'.repeat(20)),
      header({ type: '5', name: 'dir' }),
      header({ type: '2', name: 'sym', linkname: 'target' }),
      file('last', 'tail'),
    );

  const summary = (seen: Seen[]) =>
    seen.map((s) => [s.header.name, s.header.type, s.header.size, s.data.toString('hex'), s.ended]);

  it('gives the same entries whatever the split: at every byte position, and in 1-byte pieces', async () => {
    const bytes = sample();
    const { r, seen } = await read(bytes);
    const want = summary(seen);
    expect(want).toHaveLength(9);
    const digest = r.digest();
    expect(digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    for (let cut = 1; cut < bytes.length; cut++) {
      const got = await readPieces([bytes.subarray(0, cut), bytes.subarray(cut)]);
      if (JSON.stringify(summary(got.seen)) !== JSON.stringify(want))
        expect([cut, summary(got.seen)]).toEqual([cut, want]);
    }
    const ones = await read(bytes, 1);
    expect(summary(ones.seen)).toEqual(want);
    expect(ones.r.digest()).toBe(digest);
  });

  it('refuses a stream that ends inside a header, data, padding, or a PAX payload', async () => {
    const bytes = sample();
    // header of "one" is at 512, its data at 1024, its padding up to 1536
    for (const end of [100, 512 + 200, 1024, 1025, 1300, 512 * 10 + 7]) {
      await expectInvalid(bytes.subarray(0, end), /unexpected end/);
    }
  });

  it('ends at two zero blocks (trailing bytes hashed, never parsed); a zero block then data fails', async () => {
    const body = file('a', 'x');
    const trailing = Buffer.concat([body, EOA, header({ name: 'after' }), Buffer.from('junk')]);
    const { r, seen } = await read(trailing, 333);
    expect(seen.map((s) => s.header.name)).toEqual(['a']);
    expect(r.size).toBe(trailing.length);
    // one zero block and the end of the stream: fine (Go too)
    expect((await read(Buffer.concat([body, Buffer.alloc(512)]))).seen).toHaveLength(1);
    // one zero block, then an entry: Go refuses (docker fails the layer); so does berth now
    await expectInvalid(Buffer.concat([body, Buffer.alloc(512), file('hidden', 'y'), EOA]), /zero block/);
    // a part of a second zero block
    await expectInvalid(Buffer.concat([body, Buffer.alloc(700)]), /unexpected end/);
  });
});

describe('tar reader against Go’s archive/tar (docker’s reader)', () => {
  it('reads GNU tar’s archives of a tree like Go: posix (xattrs), gnu, ustar, v7, oldgnu', async () => {
    const src = `${work}/tree`;
    mkdirSync(`${src}/dir/sub`, { recursive: true });
    writeFileSync(`${src}/dir/file`, 'hello\n');
    writeFileSync(`${src}/big`, Buffer.alloc(70_000, 0x5a));
    writeFileSync(`${src}/dir/ünï cödé ✓`, 'unicode\n');
    const deep = `${src}/${'long-directory-name-'.repeat(4)}/${'x'.repeat(90)}`;
    mkdirSync(deep, { recursive: true });
    writeFileSync(`${deep}/${'y'.repeat(120)}`, 'deep\n');
    symlinkSync('dir/file', `${src}/rel-link`);
    symlinkSync(`/${'t'.repeat(150)}`, `${src}/long-link`);
    linkSync(`${src}/dir/file`, `${src}/hard`);
    execFileSync('mkfifo', [`${src}/fifo`]);
    execFileSync('setfattr', ['-n', 'user.bin', '-v', '0x00ff0a3d20', `${src}/dir/file`]);
    execFileSync('setfattr', ['-n', 'user.text', '-v', 'value', `${src}/dir`]);
    const archive = (...args: string[]): Buffer =>
      execFileSync('tar', ['-c', '-C', src, '--sort=name', ...args, '.'], { maxBuffer: 64 << 20 });
    const cases: Record<string, Buffer> = {
      posix: archive('--format=posix', '--xattrs', '--xattrs-include=*'),
      gnu: archive('--format=gnu'),
      oldgnu: archive('--format=oldgnu'),
      ustar: archive('--format=ustar', '--exclude=./long-directory-name-*', '--exclude=./long-link'),
      // v7 has no fifos and no names over 100 bytes
      v7: archive('--format=v7', '--exclude=./long-*', '--exclude=./fifo'),
    };
    const posix = await berthRead(cases.posix as Buffer);
    expect(posix.error).toBe('');
    expect(posix.entries.length).toBeGreaterThan(10);
    expect(posix.entries.find((e) => e.name === './dir/file')?.xattrs).toEqual({
      'user.bin': Buffer.from([0x00, 0xff, 0x0a, 0x3d, 0x20]).toString('base64'),
    });
    await expectSameAsGo(cases);
  });

  it('reads every odd but valid header, and refuses every broken one, as Go does', async () => {
    const body = Buffer.alloc(1500, 0x61);
    await expectSameAsGo({
      signedSum: tar(header({ name: Buffer.from('ça'), sum: 'signed' })),
      paddedOctal: tar(header({ mode: '  644 \0\0', uid: '\0\0  12  ', gid: '7\0garbag' })),
      base256: tar(
        header({ uid: base256(70000n, 8), mtime: base256(-5n, 12), size: base256(1500n, 12) }),
        padTo512(body),
      ),
      negativeUid: tar(header({ uid: base256(-1n, 8) })),
      prefix: tar(header({ name: 'n'.repeat(100), prefix: 'p'.repeat(155) })),
      star: tar(header({ magic: 'star', prefix: 'q'.repeat(131), at: [[476, Buffer.from('1234\0')]] })),
      gnuAtime: tar(header({ magic: 'gnu', prefix: octal(1_000_000_000, 12) })),
      gnuOldPrefix: tar(header({ magic: 'gnu', prefix: 'usr/lib' })),
      v7: tar(header({ magic: 'v7', name: 'old' })),
      nulDir: tar(header({ name: 'd/', type: '\0' })),
      regSlash: tar(header({ name: 'd/', type: '0' })),
      pax: tar(
        pax([
          ['path', 'ü/'.repeat(80)],
          ['uid', '70000000'],
          ['mtime', '1700000000.25'],
          ['SCHILY.xattr.user.bin', Buffer.from([0, 255, 10])],
          ['SCHILY.xattr.user.empty', ''],
          ['path', 'dup'],
        ]),
        header({}),
      ),
      paxEmpty: tar(
        pax([
          ['path', ''],
          ['uid', ''],
        ]),
        header({ name: 'kept', uid: octal(5, 8) }),
      ),
      paxSize: tar(pax([['size', '1500']]), header({ size: octal(3, 12) }), padTo512(body)),
      paxLeadingZeros: tar(paxRaw('0013 path=ab\n'), header({})),
      global: tar(
        pax([['SCHILY.xattr.user.g', 'v']], 'g'),
        header({ name: 'a' }),
        pax([['path', 'x']]),
        pax([], 'g'),
        header({ name: 'b' }),
      ),
      gnuLong: tar(
        gnuLong(`${'l/'.repeat(100)}f\0junk`),
        gnuLong('k'.repeat(300), 'K'),
        header({ type: '1' }),
      ),
      gnuLongEmpty: tar(gnuLong(''), header({ name: 'kept' })),
      metaAtEnd: tar(pax([['path', 'x']])),
      noEnd: file('a', 'x'),
      oneZeroBlock: Buffer.concat([file('a', 'x'), Buffer.alloc(512)]),
      trailing: Buffer.concat([file('a', 'x'), EOA, Buffer.from('junk')]),
      device: tar(header({ type: '3', devmajor: octal(1, 8), devminor: octal(3, 8) })),
      contiguous: tar(header({ type: '7' })),
      // broken: both refuse
      badSum: tar(header({ sum: Buffer.from('0000001\0') })),
      base256Sum: tar(header({ sum: base256(1000n, 8) })),
      badMode: tar(header({ mode: '06 44\0\0\0' })),
      badMtime: tar(pax([['mtime', '1']]), header({ mtime: '12x\0' })),
      negativeSize: tar(header({ size: base256(-1n, 12) })),
      zeroThenData: Buffer.concat([file('a', 'x'), Buffer.alloc(512), file('hidden', 'y'), EOA]),
      truncatedData: file('a', 'x'.repeat(600)).subarray(0, 800),
      truncatedHeader: header({}).subarray(0, 300),
      paxShort: tar(paxRaw('5 path=abc\n'), header({})),
      paxLong: tar(paxRaw('50 path=abc\n'), header({})),
      paxNul: tar(paxRaw('12 path=abc\n\0\0'), header({})),
      paxBadUid: tar(pax([['uid', 'abc']]), header({})),
      paxBadSize: tar(pax([['size', '-1']]), header({})),
      gnuLongOverCap: tar(
        header({ name: '././@LongLink', type: 'L', size: octal(MAX_TAR_META_BYTES + 1, 12), magic: 'gnu' }),
      ),
    });
  });
});
