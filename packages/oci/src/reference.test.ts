import { describe, expect, it } from 'vitest';
import { isBerthError } from './errors.js';
import {
  familiarName,
  familiarReference,
  formatReference,
  isReference,
  parseReference,
  parseTag,
  referenceName,
  withDefaultTag,
} from './reference.js';

const H = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const H512 = `sha512:${'ab'.repeat(64)}`;

// [input, full normalised form, familiar form]
const valid: Array<[string, string, string]> = [
  ['busybox', 'docker.io/library/busybox', 'busybox'],
  ['busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1.36.1-musl', 'docker.io/library/busybox:1.36.1-musl', 'busybox:1.36.1-musl'],
  ['library/busybox', 'docker.io/library/busybox', 'busybox'],
  ['docker.io/busybox', 'docker.io/library/busybox', 'busybox'],
  ['docker.io/library/busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
  ['index.docker.io/busybox', 'docker.io/library/busybox', 'busybox'],
  ['index.docker.io/library/debian', 'docker.io/library/debian', 'debian'],
  ['index.docker.io/docker/docker', 'docker.io/docker/docker', 'docker/docker'],
  ['user/app:1', 'docker.io/user/app:1', 'user/app:1'],
  ['docker.io/user/app', 'docker.io/user/app', 'user/app'],
  ['library/foo/bar', 'docker.io/library/foo/bar', 'library/foo/bar'],
  ['store/foo/bar', 'docker.io/store/foo/bar', 'store/foo/bar'],
  ['other/library', 'docker.io/other/library', 'other/library'],
  ['localhost/foo', 'localhost/foo', 'localhost/foo'],
  ['localhost:5000/foo', 'localhost:5000/foo', 'localhost:5000/foo'],
  ['localhost:5000/foo/bar:tag', 'localhost:5000/foo/bar:tag', 'localhost:5000/foo/bar:tag'],
  ['localhost', 'docker.io/library/localhost', 'localhost'],
  ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000'],
  ['example.com', 'docker.io/library/example.com', 'example.com'],
  ['example.com/foo', 'example.com/foo', 'example.com/foo'],
  [
    'example.com:8000/private/moonbase',
    'example.com:8000/private/moonbase',
    'example.com:8000/private/moonbase',
  ],
  ['127.0.0.1:5000/docker/docker', '127.0.0.1:5000/docker/docker', '127.0.0.1:5000/docker/docker'],
  ['192.168.0.1', 'docker.io/library/192.168.0.1', '192.168.0.1'],
  ['192.168.0.1:80', 'docker.io/library/192.168.0.1:80', '192.168.0.1:80'],
  ['[::1]:5000/foo', '[::1]:5000/foo', '[::1]:5000/foo'],
  ['[::1]/foo:bar', '[::1]/foo:bar', '[::1]/foo:bar'],
  [
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
  ],
  ['test-com:8080/foo', 'test-com:8080/foo', 'test-com:8080/foo'],
  ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080/foo', 'xn--n3h.com:18080/foo'],
  ['test_com/foo', 'docker.io/test_com/foo', 'test_com/foo'],
  ['Foo/bar', 'Foo/bar', 'Foo/bar'],
  ['FOO/bar:v1', 'FOO/bar:v1', 'FOO/bar:v1'],
  ['Docker.IO/x', 'Docker.IO/x', 'Docker.IO/x'],
  ['ghcr.io/a/b/c/d:e', 'ghcr.io/a/b/c/d:e', 'ghcr.io/a/b/c/d:e'],
  ['docker-rules/docker', 'docker.io/docker-rules/docker', 'docker-rules/docker'],
  ['docker---rules/docker', 'docker.io/docker---rules/docker', 'docker---rules/docker'],
  ['dock__er/docker', 'docker.io/dock__er/docker', 'dock__er/docker'],
  ['a_b-c/d.e', 'docker.io/a_b-c/d.e', 'a_b-c/d.e'],
  ['d/docker', 'docker.io/d/docker', 'd/docker'],
  ['ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base', 'ubuntu-12.04-base'],
  ['foo:_tag', 'docker.io/library/foo:_tag', 'foo:_tag'],
  ['foo:A.b-C_d', 'docker.io/library/foo:A.b-C_d', 'foo:A.b-C_d'],
  [`foo:${'t'.repeat(128)}`, `docker.io/library/foo:${'t'.repeat(128)}`, `foo:${'t'.repeat(128)}`],
  [`busybox@${H}`, `docker.io/library/busybox@${H}`, `busybox@${H}`],
  [`busybox:latest@${H}`, `docker.io/library/busybox:latest@${H}`, `busybox:latest@${H}`],
  [`localhost:5000/foo@${H}`, `localhost:5000/foo@${H}`, `localhost:5000/foo@${H}`],
  [`foo@${H512}`, `docker.io/library/foo@${H512}`, `foo@${H512}`],
  // A bare digest is a name "sha256" with a 64-character tag under ParseNormalizedNamed.
  [H, `docker.io/library/${H}`, H],
  // 63 hex characters are not an image ID, so this is an ordinary name.
  [
    'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9',
    'docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9',
    'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9',
  ],
  [
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
  ],
  [`a/${'b'.repeat(253)}`, `docker.io/a/${'b'.repeat(253)}`, `a/${'b'.repeat(253)}`],
];

// [input, a fragment of Docker's message]
const invalidRefs: Array<[string, string]> = [
  ['', 'at least one component'],
  ['Busybox', 'repository name (library/Busybox) must be lowercase'],
  ['docker/Docker', 'repository name (docker/Docker) must be lowercase'],
  ['Foo/Bar', 'repository name (Bar) must be lowercase'],
  ['docker.io/docker/Docker', 'must be lowercase'],
  ['a:b:c', 'invalid reference format'],
  ['busybox:', 'invalid reference format'],
  [':latest', 'invalid reference format'],
  ['@sha256:', 'invalid reference format'],
  [`@${H}`, 'invalid reference format'],
  ['busybox@', 'invalid reference format'],
  [`busybox@sha256:${'a'.repeat(63)}`, 'invalid checksum digest length'],
  [`busybox@sha256:${'a'.repeat(65)}`, 'invalid checksum digest length'],
  [`busybox@sha256:${'A'.repeat(64)}`, 'lowercase hex'],
  [`busybox@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
  ['busybox@sha256:abc', 'invalid reference format'],
  ['https://github.com/docker/docker', 'invalid reference format'],
  ['-docker', 'invalid reference format'],
  ['-docker/docker', 'invalid reference format'],
  ['docker-/docker', 'invalid reference format'],
  ['-docker-/docker', 'invalid reference format'],
  ['-docker.io/docker/docker', 'invalid reference format'],
  ['docker///docker', 'invalid reference format'],
  ['docker/', 'invalid reference format'],
  ['____/____', 'invalid reference format'],
  ['_docker/_docker', 'invalid reference format'],
  ['foo___bar', 'invalid reference format'],
  ['dock..er/docker', 'invalid reference format'],
  ['dock_.er/docker', 'invalid reference format'],
  ['dock-.er/docker', 'invalid reference format'],
  ['foo-', 'invalid reference format'],
  ['foo/bar-', 'invalid reference format'],
  ['[fc00::1]', 'invalid reference format'],
  ['[fc00::1]:5000', 'invalid reference format'],
  ['fc00::1:5000/debian', 'invalid reference format'],
  ['[fe80::1%eth0]:5000/debian', 'invalid reference format'],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'invalid reference format'],
  ['foo:bar/baz', 'invalid reference format'],
  ['localhost:abc/foo', 'invalid reference format'],
  ['foo:-tag', 'invalid reference format'],
  ['foo:.tag', 'invalid reference format'],
  [`foo:${'t'.repeat(129)}`, 'invalid reference format'],
  ['foo bar', 'invalid reference format'],
  ['foo\n', 'invalid reference format'],
  // Docker keeps this as a host-less name (domain ""); berth needs a registry, so refuses it.
  ['a_b.com/foo', 'invalid registry host'],
  [
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'cannot specify 64-byte hexadecimal strings',
  ],
  [`a/${'b'.repeat(254)}`, 'must not be more than 255 characters'],
  [`${'a'.repeat(2000)}`, 'invalid reference format'],
  ['ünïcode', 'invalid reference format'],
];

describe('parseReference: valid vectors', () => {
  it.each(valid)('%s → %s', (input, full, familiar) => {
    const ref = parseReference(input);
    expect(formatReference(ref)).toBe(full);
    expect(familiarReference(ref)).toBe(familiar);
    // Normalisation is idempotent: the full and the familiar forms parse back to the same thing.
    expect(parseReference(full)).toEqual(ref);
    // A 64-hex familiar name reads as an image ID, exactly as in Docker, so it does not round-trip.
    if (!/^[a-f0-9]{64}$/.test(familiar)) expect(parseReference(familiar)).toEqual(ref);
  });
});

describe('parseReference: invalid vectors', () => {
  it.each(invalidRefs)('%j is refused (%s)', (input, fragment) => {
    try {
      parseReference(input);
      expect.unreachable(`expected ${JSON.stringify(input)} to be refused`);
    } catch (err) {
      expect(isBerthError(err, 'INVALID_REFERENCE')).toBe(true);
      expect((err as Error).message).toContain(fragment);
      expect((err as { input?: unknown }).input).toEqual({ ref: input });
      expect((err as Error).message.startsWith('reference ')).toBe(true);
    }
  });

  it('keeps the digest error as the cause', () => {
    try {
      parseReference(`busybox@sha256:${'a'.repeat(10)}${'b'.repeat(30)}`);
      expect.unreachable();
    } catch (err) {
      expect(isBerthError(err, 'INVALID_REFERENCE')).toBe(true);
      expect(isBerthError((err as Error).cause, 'INVALID_DIGEST')).toBe(true);
    }
  });

  it('rejects non-strings', () => {
    expect(isReference(42 as never)).toBe(false);
    expect(isReference(undefined as never)).toBe(false);
  });

  it('handles hostile long inputs without catastrophic backtracking', () => {
    const inputs = [
      `${'a.'.repeat(400)}!`,
      `${'a-'.repeat(400)}!`,
      `${'a'.repeat(1000)}/`,
      `x.com/${'a_'.repeat(400)}`,
    ];
    for (const s of inputs) expect(isReference(s)).toBe(false);
  });
});

describe('reference components', () => {
  it('splits registry, repository, tag and digest', () => {
    expect(parseReference('localhost:5000/foo/bar:tag')).toEqual({
      registry: 'localhost:5000',
      repository: 'foo/bar',
      tag: 'tag',
    });
    expect(parseReference(`busybox:1@${H}`)).toEqual({
      registry: 'docker.io',
      repository: 'library/busybox',
      tag: '1',
      digest: H,
    });
    expect(parseReference('[::1]:5000/foo')).toEqual({ registry: '[::1]:5000', repository: 'foo' });
    expect(parseReference('Foo/bar')).toEqual({ registry: 'Foo', repository: 'bar' });
    expect(parseReference('busybox')).toEqual({ registry: 'docker.io', repository: 'library/busybox' });
  });

  it('names and familiar names', () => {
    const r = parseReference('busybox:1');
    expect(referenceName(r)).toBe('docker.io/library/busybox');
    expect(familiarName(r)).toBe('busybox');
    expect(familiarName(parseReference('library/a/b'))).toBe('library/a/b');
    expect(familiarName(parseReference('quay.io/library/x'))).toBe('quay.io/library/x');
  });

  it('withDefaultTag adds latest only to a name-only reference', () => {
    expect(formatReference(withDefaultTag(parseReference('busybox')))).toBe(
      'docker.io/library/busybox:latest',
    );
    expect(formatReference(withDefaultTag(parseReference('busybox:1')))).toBe('docker.io/library/busybox:1');
    expect(formatReference(withDefaultTag(parseReference(`busybox@${H}`)))).toBe(
      `docker.io/library/busybox@${H}`,
    );
  });

  it('parseTag validates tags', () => {
    expect(parseTag('v1.0_rc-2')).toBe('v1.0_rc-2');
    for (const bad of ['', '-x', '.x', 'a/b', 'a:b', 't'.repeat(129)]) {
      expect(() => parseTag(bad)).toThrow(/invalid tag format/);
    }
  });
});
