import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  chainId,
  chainIds,
  createDigester,
  createVerifier,
  digestOf,
  isDigest,
  parseDigest,
  splitDigest,
  verifyingStream,
} from './digest.js';
import { isBerthError } from './errors.js';

const HELLO = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const EMPTY512 =
  'sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBerthError(err) ? err.code : `non-berth: ${String(err)}`;
  }
  return undefined;
}

describe('parseDigest', () => {
  it('accepts sha256 and sha512', () => {
    expect(parseDigest(HELLO)).toBe(HELLO);
    expect(parseDigest(EMPTY512)).toBe(EMPTY512);
  });

  it.each([
    ['', 'empty'],
    ['sha256', 'no colon'],
    ['sha256:', 'no hex'],
    [':abc', 'no algorithm'],
    [`sha256:${'a'.repeat(63)}`, 'short'],
    [`sha256:${'a'.repeat(65)}`, 'long'],
    [`sha256:${'A'.repeat(64)}`, 'uppercase hex'],
    [`SHA256:${'a'.repeat(64)}`, 'uppercase algorithm'],
    [`sha256:${'g'.repeat(64)}`, 'non-hex'],
    [`sha512:${'a'.repeat(64)}`, 'sha512 with sha256 length'],
    [`sha384:${'a'.repeat(96)}`, 'unregistered algorithm'],
    [`md5:${'a'.repeat(32)}`, 'unsupported algorithm'],
    [` sha256:${'a'.repeat(64)}`, 'leading space'],
    [`sha256:${'a'.repeat(64)}\n`, 'trailing newline'],
  ])('rejects %j (%s) with INVALID_DIGEST', (s) => {
    expect(codeOf(() => parseDigest(s))).toBe('INVALID_DIGEST');
  });

  it('names the field when given', () => {
    try {
      parseDigest('sha256:xyz', { field: 'layers[2].digest' });
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'INVALID_DIGEST')).toBe(true);
      expect((err as Error).message).toMatch(/^layers\[2\]\.digest "sha256:xyz": /);
      expect((err as { input?: unknown }).input).toEqual({ field: 'layers[2].digest' });
    }
  });

  it('isDigest is the boolean form', () => {
    expect(isDigest(HELLO)).toBe(true);
    expect(isDigest('sha256:x')).toBe(false);
    expect(isDigest(42)).toBe(false);
  });

  it('splitDigest returns algorithm and hex', () => {
    expect(splitDigest(HELLO)).toEqual({ algorithm: 'sha256', encoded: HELLO.slice(7) });
  });
});

describe('digestOf and createDigester', () => {
  it('hashes bytes and strings', () => {
    expect(digestOf(Buffer.from('hello'))).toBe(HELLO);
    expect(digestOf('hello')).toBe(HELLO);
    expect(digestOf(new Uint8Array(0), { algorithm: 'sha512' })).toBe(EMPTY512);
  });

  it('digests incrementally', () => {
    const d = createDigester();
    d.update(Buffer.from('hel'));
    d.update(Buffer.from('lo'));
    expect(d.size).toBe(5);
    expect(d.digest()).toBe(HELLO);
    expect(codeOf(() => d.digest())).toBe('INTERNAL');
  });
});

describe('createVerifier', () => {
  it('verifies matching content in chunks', () => {
    const v = createVerifier({ digest: HELLO, size: 5 });
    v.update(Buffer.from('he'));
    v.update(Buffer.from('llo'));
    expect(v.received).toBe(5);
    expect(v.verify()).toBe(HELLO);
  });

  it('reports an overrun at the chunk that crosses the size', () => {
    const v = createVerifier({ digest: HELLO, size: 5 });
    v.update(Buffer.from('hell'));
    expect(codeOf(() => v.update(Buffer.from('o!')))).toBe('SIZE_MISMATCH');
  });

  it('reports short content at verify', () => {
    const v = createVerifier({ digest: HELLO, size: 5 });
    v.update(Buffer.from('hell'));
    expect(codeOf(() => v.verify())).toBe('SIZE_MISMATCH');
  });

  it('reports a digest mismatch with both digests in the message', () => {
    const v = createVerifier({ digest: HELLO, size: 5 });
    v.update(Buffer.from('HELLO'));
    try {
      v.verify();
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'DIGEST_MISMATCH')).toBe(true);
      expect((err as Error).message).toContain(HELLO);
      expect((err as Error).message).toContain(digestOf('HELLO'));
    }
  });

  it('checks only the digest when size is omitted', () => {
    const v = createVerifier({ digest: HELLO });
    v.update(Buffer.from('hello'));
    expect(v.verify()).toBe(HELLO);
  });

  it('rejects a bad expected digest or size', () => {
    expect(codeOf(() => createVerifier({ digest: 'sha256:zz' as never }))).toBe('INVALID_DIGEST');
    expect(codeOf(() => createVerifier({ digest: HELLO, size: -1 }))).toBe('SIZE_MISMATCH');
    expect(codeOf(() => createVerifier({ digest: HELLO, size: 1.5 }))).toBe('SIZE_MISMATCH');
  });

  it('verifies sha512', () => {
    const v = createVerifier({ digest: EMPTY512 as never, size: 0 });
    expect(v.verify()).toBe(EMPTY512);
  });
});

async function run(chunks: string[], opts: { digest: string; size?: number }): Promise<string> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(chunks.map((c) => Buffer.from(c))), verifyingStream(opts as never), sink);
  return Buffer.concat(out).toString();
}

describe('verifyingStream', () => {
  it('passes verified content through', async () => {
    await expect(run(['he', 'l', 'lo'], { digest: HELLO, size: 5 })).resolves.toBe('hello');
  });

  it('errors with DIGEST_MISMATCH', async () => {
    await expect(run(['hellO'], { digest: HELLO, size: 5 })).rejects.toSatisfy((e) =>
      isBerthError(e, 'DIGEST_MISMATCH'),
    );
  });

  it('errors with SIZE_MISMATCH on overrun before the data is passed on', async () => {
    const seen: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        seen.push(chunk.toString());
        cb();
      },
    });
    const p = pipeline(
      Readable.from([Buffer.from('hello'), Buffer.from('xx'), Buffer.from('more')]),
      verifyingStream({ digest: HELLO, size: 5 }),
      sink,
    );
    await expect(p).rejects.toSatisfy((e) => isBerthError(e, 'SIZE_MISMATCH'));
    expect(seen.join('')).toBe('hello');
  });

  it('errors with SIZE_MISMATCH when short', async () => {
    await expect(run(['hell'], { digest: HELLO, size: 5 })).rejects.toSatisfy((e) =>
      isBerthError(e, 'SIZE_MISMATCH'),
    );
  });
});

describe('chainIds', () => {
  // Golden values computed with sha256sum: sha256("<chain> <diffid>").
  const A = 'sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
  const B = 'sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';
  const C = 'sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6';
  const AB = 'sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676';
  const ABC = 'sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106';

  it('follows the image-spec recursion', () => {
    expect(chainIds([A, B, C])).toEqual([A, AB, ABC]);
    expect(chainId([A])).toBe(A);
    expect(chainId([A, B, C])).toBe(ABC);
    expect(chainIds([])).toEqual([]);
  });

  it('rejects a bad diff id naming its index and treats an empty stack as a bug', () => {
    try {
      chainIds([A, 'sha256:nope']);
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'INVALID_DIGEST')).toBe(true);
      expect((err as { input?: unknown }).input).toEqual({ field: 'rootfs.diff_ids[1]' });
    }
    expect(codeOf(() => chainId([]))).toBe('INTERNAL');
  });
});
