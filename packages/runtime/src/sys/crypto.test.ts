import { createHash } from 'node:crypto';
import { randomBytes, randomInt, setCryptoProvider, sha256 } from '@berth/oci';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from './addon.js';
import { sysCryptoProvider } from './crypto.js';

afterEach(() => setCryptoProvider(undefined));

const nodeSha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('the berth-sys addon: sha256 and randomFill', () => {
  it("has this node's OpenSSL SHA-256, which gives node:crypto's digests", () => {
    const sys = loadAddon();
    expect(typeof sys.sha256).toBe('function');
    // empty, one byte, the padding edges of a 64-byte block, several blocks, 1 MiB
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 1 << 20]) {
      const data = Buffer.alloc(n);
      for (let i = 0; i < n; i++) data[i] = (i * 31 + n) & 0xff;
      expect(Buffer.from(sys.sha256?.(data) ?? []).toString('hex')).toBe(nodeSha256(data));
    }
    // a view into a larger buffer hashes only its own bytes
    const big = Buffer.from('xxabcxx');
    expect(sys.sha256?.(big.subarray(2, 5))?.toString('hex')).toBe(nodeSha256(Buffer.from('abc')));
  });

  it('refuses what is not bytes with a TypeError naming the argument', () => {
    const sys = loadAddon() as unknown as Record<string, (v: unknown) => unknown>;
    expect(() => sys.sha256?.('abc')).toThrow(/data must be a Uint8Array/);
    expect(() => sys.randomFill?.([1, 2])).toThrow(/buf must be a Uint8Array/);
  });

  it('fills a buffer from getrandom(2): every byte of it, different each time', () => {
    const sys = loadAddon();
    const a = Buffer.alloc(4096);
    const b = Buffer.alloc(4096);
    expect(sys.randomFill(a)).toBe(0);
    expect(sys.randomFill(b)).toBe(0);
    expect(a.equals(b)).toBe(false);
    // 4096 random bytes take (nearly) every value: none is left at zero for long
    expect(new Set(a).size).toBeGreaterThan(200);
    expect(a.subarray(4000).some((x) => x !== 0)).toBe(true);
  });
});

describe('sysCryptoProvider as @berth/oci crypto provider', () => {
  it("gives oci's sha256 and digestOf the standard digest, and random bytes and ints", () => {
    setCryptoProvider(sysCryptoProvider);
    expect(sha256('abc').toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    const r = randomBytes(32);
    expect(r.length).toBe(32);
    expect(r.equals(randomBytes(32))).toBe(false);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = randomInt(10);
      expect(Number.isInteger(x) && x >= 0 && x < 10).toBe(true);
      seen.add(x);
    }
    expect(seen.size).toBe(10);
  });
});
