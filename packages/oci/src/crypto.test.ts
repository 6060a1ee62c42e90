import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type CryptoProvider, randomBytes, randomInt, setCryptoProvider, sha256 } from './crypto.js';
import { digestOf } from './digest.js';

afterEach(() => setCryptoProvider(undefined));

const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

/** A provider that records its calls; its SHA-256 is node:crypto's, its random bytes are `draws`. */
function recording(draws: number[] = [], hash = true) {
  const calls: string[] = [];
  const provider: CryptoProvider = {
    sha256(data) {
      calls.push('sha256');
      return hash ? createHash('sha256').update(data).digest() : undefined;
    },
    randomFill(buf) {
      calls.push(`fill ${buf.length}`);
      const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      b.writeUInt32BE(draws.shift() ?? 0, 0);
    },
  };
  return { provider, calls };
}

describe('sha256, randomBytes and randomInt without a provider (node:crypto)', () => {
  it('hash bytes and strings (UTF-8) to the standard digest', () => {
    expect(sha256('abc').toString('hex')).toBe(ABC);
    expect(sha256(Buffer.from('abc')).toString('hex')).toBe(ABC);
    expect(sha256('é').equals(createHash('sha256').update('é', 'utf8').digest())).toBe(true);
    expect(digestOf('abc')).toBe(`sha256:${ABC}`);
  });

  it('give random bytes and ints in range', () => {
    expect(randomBytes(16).length).toBe(16);
    for (let i = 0; i < 200; i++) expect(randomInt(3)).toBeLessThan(3);
  });
});

describe('with a provider installed', () => {
  it('hashes (sha256 and digestOf) and draws through it', () => {
    const { provider, calls } = recording([7]);
    setCryptoProvider(provider);
    expect(sha256('abc').toString('hex')).toBe(ABC);
    expect(digestOf('abc')).toBe(`sha256:${ABC}`);
    expect(randomBytes(8).readUInt32BE(0)).toBe(7);
    expect(calls).toEqual(['sha256', 'sha256', 'fill 8']);
    // sha512 is node:crypto's still
    expect(digestOf('abc', { algorithm: 'sha512' })).toMatch(/^sha512:[0-9a-f]{128}$/);
    expect(calls.length).toBe(3);
  });

  it('falls back to node:crypto when the provider has no SHA-256', () => {
    const { provider, calls } = recording([], false);
    setCryptoProvider(provider);
    expect(sha256('abc').toString('hex')).toBe(ABC);
    expect(calls).toEqual(['sha256']);
  });

  it('randomInt redraws a value of the last partial range, so every value is as likely', () => {
    // max 3: 2^32 mod 3 = 1, so 2^32 - 1 is redrawn; 5 % 3 = 2
    const { provider, calls } = recording([2 ** 32 - 1, 5]);
    setCryptoProvider(provider);
    expect(randomInt(3)).toBe(2);
    expect(calls).toEqual(['fill 4', 'fill 4']);
    const r = recording([2 ** 32 - 2]);
    setCryptoProvider(r.provider);
    expect(randomInt(3)).toBe((2 ** 32 - 2) % 3);
  });

  it('randomInt refuses a max it cannot draw uniformly', () => {
    for (const max of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN]) expect(() => randomInt(max)).toThrow(RangeError);
  });
});
