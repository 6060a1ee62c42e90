import { readFileSync } from 'node:fs';
import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES } from '../spec.js';
import {
  defaultSeccomp,
  defaultSeccompProfile,
  parseSeccompProfile,
  resolveSeccompProfile,
  sharedDefaultSeccompProfile,
} from './profile.js';

const names = (s: ReturnType<typeof defaultSeccomp>): string[] => (s.syscalls ?? []).flatMap((r) => r.names);

describe('defaultSeccompProfile', () => {
  it('is moby/profiles seccomp/default.json, parsed without warnings', () => {
    const text = readFileSync(new URL('./default-profile.json', import.meta.url), 'utf8');
    const { profile, warnings } = parseSeccompProfile(text);
    expect(warnings).toEqual([]);
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(profile.defaultErrnoRet).toBe(1);
    expect(profile.syscalls.length).toBeGreaterThan(30);
    expect(profile.syscalls[0]!.names).toContain('read');
    expect(defaultSeccompProfile()).toStrictEqual(profile);
    // buildSpec resolves the shared copy, which skips the parser: it must be what the parser gives
    expect(sharedDefaultSeccompProfile()).toStrictEqual(profile);
  });

  it('resolving the shared copy leaves it unchanged', () => {
    const before = structuredClone(sharedDefaultSeccompProfile());
    const out = resolveSeccompProfile(sharedDefaultSeccompProfile(), {
      capabilities: ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'],
      arch: 'x86_64',
      kernel: '6.1.0',
    })!;
    out.syscalls![0]!.names.push('changed');
    out.architectures!.push('changed');
    expect(sharedDefaultSeccompProfile()).toStrictEqual(before);
  });

  it('returns a copy each time', () => {
    const a = defaultSeccompProfile();
    a.syscalls.length = 0;
    expect(defaultSeccompProfile().syscalls.length).toBeGreaterThan(30);
  });
});

describe('resolveSeccompProfile (docker setupSeccomp)', () => {
  const base = { capabilities: DEFAULT_CAPABILITIES, arch: 'x86_64' as const, kernel: '6.1.0-18-amd64' };

  it('expands the archMap entry of the container arch', () => {
    expect(defaultSeccomp(base).architectures).toEqual([
      'SCMP_ARCH_X86_64',
      'SCMP_ARCH_X86',
      'SCMP_ARCH_X32',
    ]);
    expect(defaultSeccomp({ ...base, arch: 'aarch64' }).architectures).toEqual([
      'SCMP_ARCH_AARCH64',
      'SCMP_ARCH_ARM',
    ]);
  });

  it('keeps includes.caps rules only with every cap, drops excludes.caps rules with any', () => {
    const plain = defaultSeccomp(base);
    expect(names(plain)).not.toContain('mount');
    expect(names(plain)).not.toContain('reboot');
    const clone = plain.syscalls!.filter((r) => r.names.includes('clone'));
    expect(clone).toEqual([
      {
        names: ['clone'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }],
      },
    ]);
    expect(plain.syscalls!.find((r) => r.names.includes('clone3'))).toEqual({
      names: ['clone3'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 38,
    });
    const admin = defaultSeccomp({ ...base, capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'] });
    expect(names(admin)).toContain('mount');
    expect(admin.syscalls!.filter((r) => r.names.includes('clone')).every((r) => !r.args)).toBe(true);
    expect(admin.syscalls!.some((r) => r.action === 'SCMP_ACT_ERRNO')).toBe(false);
  });

  it('filters by arch (amd64 gets arch_prctl, arm64 the arm calls)', () => {
    expect(names(defaultSeccomp(base))).toContain('arch_prctl');
    expect(names(defaultSeccomp(base))).not.toContain('set_tls');
    const arm = names(defaultSeccomp({ ...base, arch: 'aarch64' }));
    expect(arm).toContain('set_tls');
    expect(arm).not.toContain('arch_prctl');
  });

  it('applies minKernel against the kernel release', () => {
    expect(names(defaultSeccomp(base)).filter((n) => n === 'ptrace')).toHaveLength(1);
    expect(names(defaultSeccomp({ ...base, kernel: '4.4.0' }))).not.toContain('ptrace');
    expect(names(defaultSeccomp({ ...base, kernel: '4.8' }))).toContain('ptrace');
  });

  it('a profile with nothing in it disables seccomp, as docker', () => {
    const { profile } = parseSeccompProfile('{"defaultAction":""}'.replace('""', '"SCMP_ACT_ALLOW"'));
    expect(resolveSeccompProfile(profile, base)).toEqual({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] });
  });
});

describe('parseSeccompProfile', () => {
  const ok = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] as unknown[] };
  const rule = (r: object): object => ({
    ...ok,
    syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, r],
  });
  const cases: [string, unknown, string][] = [
    ['not JSON', '{', ''],
    ['not an object', '[]', '(root)'],
    ['bad action', { defaultAction: 'ALLOW' }, 'defaultAction'],
    [
      'bad op',
      rule({ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'EQ' }] }),
      'syscalls[1].args[0].op',
    ],
    [
      'arg index',
      rule({ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 9, op: 'SCMP_CMP_EQ' }] }),
      'syscalls[1].args[0].index',
    ],
    [
      'negative value',
      rule({ names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }),
      'syscalls[1].args[0].value',
    ],
    ['name and names', rule({ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }), 'syscalls[1]'],
    ['no names', rule({ action: 'SCMP_ACT_ALLOW' }), 'syscalls[1].names'],
    [
      'errnoRet on allow',
      rule({ names: ['x'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }),
      'syscalls[1].errnoRet',
    ],
    [
      'errno too big',
      rule({ names: ['x'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }),
      'syscalls[1].errnoRet',
    ],
    [
      'minKernel',
      rule({ names: ['x'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }),
      'syscalls[1].includes.minKernel',
    ],
    [
      'caps type',
      rule({ names: ['x'], action: 'SCMP_ACT_ALLOW', excludes: { caps: [1] } }),
      'syscalls[1].excludes.caps[0]',
    ],
    ['bad arch', { ...ok, architectures: ['x86_64'] }, 'architectures[0]'],
    [
      'arches and archMap',
      { ...ok, architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] },
      'archMap',
    ],
  ];
  for (const [name, input, field] of cases)
    it(`refuses ${name} naming "${field}"`, () => {
      try {
        parseSeccompProfile(input);
        expect.unreachable();
      } catch (err) {
        expect(isBerthError(err, 'SECCOMP_PROFILE_INVALID')).toBe(true);
        expect((err as { input?: { field: string } }).input?.field).toBe(field);
      }
    });

  it('accepts the old single-name form and warns about unknown fields (docker ignores them)', () => {
    const { profile, warnings } = parseSeccompProfile({
      defaultAction: 'SCMP_ACT_ALLOW',
      _comment: 'mine',
      syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO', errnoRet: 13, arg: [] }],
    });
    expect(profile.syscalls).toEqual([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }]);
    expect(warnings).toEqual(['_comment: unknown field ignored', 'syscalls[0].arg: unknown field ignored']);
  });
});
