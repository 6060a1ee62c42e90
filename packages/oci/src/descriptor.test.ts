import { describe, expect, it } from 'vitest';
import { parseDescriptor } from './descriptor.js';
import { digestOf } from './digest.js';
import { isBerthError } from './errors.js';

describe('parseDescriptor', () => {
  it('accepts a full descriptor and verifies embedded data', () => {
    const d = parseDescriptor({
      mediaType: 'application/vnd.oci.empty.v1+json',
      digest: digestOf('{}'),
      size: 2,
      data: Buffer.from('{}').toString('base64'),
      urls: ['https://example.com/x'],
      annotations: { a: 'b' },
      platform: { os: 'linux', architecture: 'arm', variant: 'v7', features: [] },
      artifactType: 'application/vnd.example+json',
    });
    expect(d.size).toBe(2);
  });

  it.each<[unknown, string]>([
    [null, '$'],
    [{ digest: digestOf(''), size: 0 }, 'mediaType'],
    [{ mediaType: 'a/b', digest: digestOf(''), size: 0, data: 'AA==' }, 'data'],
    [{ mediaType: 'a/b', digest: digestOf(''), size: 0, annotations: [] }, 'annotations'],
  ])('refuses %j at %s', (value, field) => {
    try {
      parseDescriptor(value);
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'INVALID_MANIFEST')).toBe(true);
      expect((err as { input?: unknown }).input).toEqual({ field });
    }
  });
});
