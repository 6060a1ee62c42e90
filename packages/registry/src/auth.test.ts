import { describe, expect, it } from 'vitest';
import { parseChallenges, repositoryScope } from './auth.js';

describe('parseChallenges', () => {
  it('parses a bearer challenge with quoted parameters', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/busybox:pull',
        },
      },
    ]);
  });

  it('parses several challenges, token values, escapes and commas inside quotes', () => {
    const parsed = parseChallenges(
      'Basic realm="a, \\"b\\"", Bearer realm=https://x/t , error=insufficient_scope',
    );
    expect(parsed.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(parsed[0]!.params.realm).toBe('a, "b"');
    expect(parsed[1]!.params).toMatchObject({ realm: 'https://x/t', error: 'insufficient_scope' });
  });

  it('survives hostile input', () => {
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: {} }]);
    expect(parseChallenges('"quoted-scheme"')).toEqual([]);
    const proto = parseChallenges('Bearer __proto__="x",realm="r"');
    expect(proto[0]!.params.realm).toBe('r');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(parseChallenges(`Bearer ${'a=b,'.repeat(10_000)}`)[0]!.scheme).toBe('bearer');
  });

  it('builds repository scopes', () => {
    expect(repositoryScope('library/busybox', ['pull', 'push'])).toBe('repository:library/busybox:pull,push');
  });
});
