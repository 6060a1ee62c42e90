import { describe, expect, it } from 'vitest';
import type { Descriptor, Platform } from './descriptor.js';
import { isBerthError } from './errors.js';
import type { Index } from './image-index.js';
import { MediaType } from './media-types.js';
import {
  availablePlatforms,
  compatiblePlatforms,
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  platformNotFound,
  selectManifest,
} from './platform.js';

describe('parsePlatform and normalizePlatform', () => {
  it.each<[string, string]>([
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/x86-64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/aarch64', 'linux/arm64/v8'],
    ['linux/arm64', 'linux/arm64/v8'],
    ['linux/arm64/v8', 'linux/arm64/v8'],
    ['linux/arm64/8', 'linux/arm64/v8'],
    ['linux/arm64/v9.0', 'linux/arm64/v9'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/arm/6', 'linux/arm/v6'],
    ['linux/arm/v5', 'linux/arm/v5'],
    ['linux/i386', 'linux/386'],
    ['linux/386', 'linux/386'],
    ['Linux/AMD64', 'linux/amd64'],
    ['macos/arm64', 'darwin/arm64/v8'],
    ['linux/ppc64le', 'linux/ppc64le'],
    ['linux/s390x', 'linux/s390x'],
    ['linux/riscv64', 'linux/riscv64'],
    ['windows/amd64', 'windows/amd64'],
  ])('%s → %s', (spec, want) => {
    expect(formatPlatform(parsePlatform(spec))).toBe(want);
  });

  it('fills the host for a lone OS or architecture', () => {
    const host = hostPlatform();
    expect(parsePlatform('linux')).toEqual({ ...host, os: 'linux' });
    expect(parsePlatform('arm64')).toEqual({ os: host.os, architecture: 'arm64', variant: 'v8' });
  });

  it.each(['', 'linux/', '/amd64', 'linux/amd64/v8/x', 'linux amd64', 'nosuchthing', 'linux/$x'])(
    'refuses %j with INVALID_PLATFORM',
    (spec) => {
      expect(() => parsePlatform(spec)).toThrow(expect.objectContaining({ code: 'INVALID_PLATFORM' }));
    },
  );

  it('keeps os.version when normalising', () => {
    expect(normalizePlatform({ os: 'windows', architecture: 'x86_64', 'os.version': '10.0.1' })).toEqual({
      os: 'windows',
      architecture: 'amd64',
      'os.version': '10.0.1',
    });
  });

  it('hostPlatform reflects process.arch', () => {
    const host = hostPlatform();
    const expected: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
    if (expected[process.arch]) expect(host.architecture).toBe(expected[process.arch]);
    expect(host.os).toBe(process.platform === 'win32' ? 'windows' : process.platform);
  });

  it('platformMatches compares normalised os, arch and variant', () => {
    expect(
      platformMatches(
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 'aarch64', variant: 'v8' },
      ),
    ).toBe(true);
    expect(
      platformMatches(
        { os: 'linux', architecture: 'arm', variant: 'v7' },
        { os: 'linux', architecture: 'arm' },
      ),
    ).toBe(true);
    expect(
      platformMatches(
        { os: 'linux', architecture: 'arm', variant: 'v7' },
        { os: 'linux', architecture: 'arm', variant: 'v6' },
      ),
    ).toBe(false);
    expect(
      platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }),
    ).toBe(false);
  });

  it('compatiblePlatforms follows containerd ordering', () => {
    const f = (s: string) => compatiblePlatforms(parsePlatform(s)).map(formatPlatform);
    expect(f('linux/arm/v7')).toEqual(['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
    expect(f('linux/amd64')).toEqual(['linux/amd64', 'linux/386']);
    expect(f('linux/amd64/v3')).toEqual(['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64', 'linux/386']);
    expect(f('linux/arm64')).toEqual([
      'linux/arm64/v8',
      'linux/arm/v8',
      'linux/arm/v7',
      'linux/arm/v6',
      'linux/arm/v5',
    ]);
  });
});

let n = 0;
function entry(platform?: Platform, mediaType: string = MediaType.OciManifest): Descriptor {
  n += 1;
  return {
    mediaType,
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    size: 100,
    ...(platform ? { platform } : {}),
  };
}
const idx = (...manifests: Descriptor[]): Index => ({ schemaVersion: 2, manifests });

describe('selectManifest', () => {
  const amd64 = entry({ os: 'linux', architecture: 'amd64' });
  const arm64 = entry({ os: 'linux', architecture: 'arm64', variant: 'v8' });
  const armv7 = entry({ os: 'linux', architecture: 'arm', variant: 'v7' });
  const armv6 = entry({ os: 'linux', architecture: 'arm', variant: 'v6' });
  const armv5 = entry({ os: 'linux', architecture: 'arm', variant: 'v5' });
  const i386 = entry({ os: 'linux', architecture: '386' });
  const win = entry({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1879' });
  const attestation = entry({ os: 'unknown', architecture: 'unknown' });
  const busybox = idx(amd64, armv5, armv6, armv7, arm64, i386, win, attestation);

  it('picks the exact platform', () => {
    expect(selectManifest(busybox, 'linux/amd64')).toBe(amd64);
    expect(selectManifest(busybox, 'linux/arm/v7')).toBe(armv7);
    expect(selectManifest(busybox, 'linux/arm/v6')).toBe(armv6);
    expect(selectManifest(busybox, { os: 'linux', architecture: 'aarch64' })).toBe(arm64);
    expect(selectManifest(busybox, 'windows/amd64')).toBe(win);
  });

  it('matches arm64 with and without an explicit v8 variant', () => {
    const plain = entry({ os: 'linux', architecture: 'arm64' });
    expect(selectManifest(idx(amd64, plain), 'linux/arm64/v8')).toBe(plain);
    expect(selectManifest(idx(amd64, arm64), 'linux/arm64')).toBe(arm64);
  });

  it('falls back in containerd order', () => {
    expect(selectManifest(idx(armv5, armv6), 'linux/arm/v7')).toBe(armv6);
    expect(selectManifest(idx(armv5), 'linux/arm/v7')).toBe(armv5);
    expect(selectManifest(idx(armv7), 'linux/arm/v6')).toBeUndefined();
    expect(selectManifest(idx(i386), 'linux/amd64')).toBe(i386);
    expect(selectManifest(idx(armv6, armv7), 'linux/arm64')).toBe(armv7);
    expect(selectManifest(idx(amd64), 'linux/amd64/v3')).toBe(amd64);
  });

  it('prefers a better rank over index order, and index order within a rank', () => {
    const armv7b = entry({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(selectManifest(idx(armv6, armv7, armv7b), 'linux/arm/v7')).toBe(armv7);
  });

  it('uses an entry without platform only as a last resort, and skips non-manifests', () => {
    const bare = entry();
    const blob = entry({ os: 'linux', architecture: 'amd64' }, MediaType.OciLayerGzip);
    expect(selectManifest(idx(bare, amd64), 'linux/amd64')).toBe(amd64);
    expect(selectManifest(idx(bare, armv7), 'linux/amd64')).toBe(bare);
    expect(selectManifest(idx(blob), 'linux/amd64')).toBeUndefined();
    const nested = entry({ os: 'linux', architecture: 'amd64' }, MediaType.OciIndex);
    expect(selectManifest(idx(nested), 'linux/amd64')).toBe(nested);
  });

  it('defaults to the host platform', () => {
    const host = hostPlatform();
    const mine = entry(host);
    expect(selectManifest(idx(entry({ os: 'plan9', architecture: 'mips' }), mine))).toBe(mine);
  });

  it('platformNotFound lists what is available', () => {
    const err = platformNotFound({
      index: idx(amd64, armv7, attestation),
      wanted: parsePlatform('linux/arm64'),
      ref: 'busybox:1',
    });
    expect(isBerthError(err, 'PLATFORM_NOT_FOUND')).toBe(true);
    expect(err.message).toBe(
      'busybox:1: no matching manifest for linux/arm64/v8 in the manifest list entries (available: linux/amd64, linux/arm/v7)',
    );
    expect(err.input).toEqual({ ref: 'busybox:1' });
    expect(availablePlatforms(idx(attestation))).toEqual([]);
  });
});
