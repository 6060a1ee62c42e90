import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseContentRange } from './blobs.js';
import { errorFromResponse, parseErrorBody } from './errors.js';
import { nextLink } from './resolve.js';
import { isLoopback, parseRetryAfter, Transport, trustedContext } from './transport.js';

describe('transport helpers', () => {
  it('knows loopback hosts', () => {
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.1.2.3:80', '[::1]', '[::1]:5000']) {
      expect(isLoopback(h)).toBe(true);
    }
    for (const h of [
      'example.com',
      '10.0.0.1:5000',
      '128.0.0.1',
      'localhost.example.com',
      '[::2]:5000',
      '0.0.0.0',
    ]) {
      expect(isLoopback(h)).toBe(false);
    }
  });

  it('allows plain http only for loopback and configured insecure registries', async () => {
    const t = new Transport({ insecure: ['registry.lan:5000', 'other.lan'] });
    expect(t.allowsHttp('127.0.0.1:5000')).toBe(true);
    expect(t.allowsHttp('registry.lan:5000')).toBe(true);
    expect(t.allowsHttp('registry.lan:5001')).toBe(false);
    expect(t.allowsHttp('other.lan:443')).toBe(true);
    expect(t.allowsHttp('docker.io')).toBe(false);
    await t.close();
  });

  it('reads caFiles when the trust is built, naming a file it cannot use', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-ca-'));
    try {
      const missing = join(dir, 'missing.pem');
      const empty = join(dir, 'empty.pem');
      await writeFile(empty, 'not a certificate\n');
      // the constructor reads nothing
      await new Transport({ caFiles: [missing] }).close();
      expect(() => trustedContext([], [missing])).toThrow(
        expect.objectContaining({
          code: 'CA_FILE_UNREADABLE',
          message: expect.stringContaining(`cannot read extra CA certificates from ${missing}: ENOENT`),
        }),
      );
      expect(() => trustedContext([], [empty])).toThrow(`${empty}: no PEM certificate in it`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('follows Link rel=next on the same origin only', () => {
    const base = new URL('https://r.io/v2/a/tags/list?n=2');
    expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', base)?.href).toBe(
      'https://r.io/v2/a/tags/list?n=2&last=b',
    );
    expect(nextLink('<https://evil.io/v2/a/tags/list>; rel="next"', base)).toBeUndefined();
    expect(nextLink('</x>; rel="prev"', base)).toBeUndefined();
    expect(nextLink(undefined, base)).toBeUndefined();
  });

  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 10-19/20')).toEqual({ start: 10, end: 19, total: 20 });
    expect(parseContentRange('bytes 10-19/*')).toEqual({ start: 10, end: 19 });
    expect(parseContentRange('bytes 19-10/20')).toBeUndefined();
    expect(parseContentRange('items 1-2/3')).toBeUndefined();
  });
});

describe('error mapping', () => {
  const context = { registry: 'r.io', repository: 'a/b', reference: 'v1' };
  const map = (status: number, body = '', subject: 'manifest' | 'blob' | 'tags' = 'manifest') =>
    errorFromResponse({ operation: 'pull', subject, status, body, context });

  it('maps the error body code first', () => {
    const e = map(400, JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'bad digest' }] }));
    expect(e.code).toBe('DIGEST_MISMATCH');
    expect(e).toMatchObject({
      status: 400,
      registryCode: 'DIGEST_INVALID',
      registry: 'r.io',
      repository: 'a/b',
    });
    expect(e.message).toBe('pull r.io/a/b:v1: digest mismatch (HTTP 400: DIGEST_INVALID: bad digest)');
    expect(e.input).toEqual({ ref: 'r.io/a/b:v1' });
    expect(map(404, JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN' }] })).code).toBe('NAME_UNKNOWN');
    expect(map(429, JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS' }] })).code).toBe(
      'TOO_MANY_REQUESTS',
    );
  });

  it('falls back to the status', () => {
    expect(map(401).code).toBe('UNAUTHORIZED');
    expect(map(403).code).toBe('DENIED');
    expect(map(404).code).toBe('MANIFEST_UNKNOWN');
    expect(map(404, '', 'blob').code).toBe('BLOB_UNKNOWN');
    expect(map(404, '', 'tags').code).toBe('NAME_UNKNOWN');
    expect(map(413).code).toBe('MANIFEST_TOO_LARGE');
    expect(map(415).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(map(429).code).toBe('TOO_MANY_REQUESTS');
    expect(map(500).code).toBe('REGISTRY_ERROR');
  });

  it('reads hostile error bodies without trusting them', () => {
    expect(parseErrorBody('not json')).toEqual({});
    expect(parseErrorBody('{"errors": "x"}')).toEqual({});
    expect(parseErrorBody(JSON.stringify({ errors: [{ code: 'X'.repeat(500) }] }))).toEqual({});
    expect(
      parseErrorBody(JSON.stringify({ errors: [{ code: 'DENIED', message: 'm'.repeat(1000) }] })).message,
    ).toHaveLength(300);
  });
});
