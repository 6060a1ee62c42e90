import { describe, expect, it } from 'vitest';
import { buildSpec } from '../spec.js';
import { parseSeccompProfile } from './profile.js';

const image = { Cmd: ['sh'] };
const base = { arch: 'x86_64' as const, kernel: '6.1.0' };
const names = (s: ReturnType<typeof buildSpec>): string[] =>
  (s.linux?.seccomp?.syscalls ?? []).flatMap((r) => r.names);

describe('buildSpec: linux.seccomp (docker WithSeccomp)', () => {
  it('puts docker default profile resolved for the container caps', () => {
    const s = buildSpec(image, base);
    expect(s.linux?.seccomp?.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(s.linux?.seccomp?.defaultErrnoRet).toBe(1);
    expect(s.linux?.seccomp?.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(names(s)).not.toContain('mount');
    expect(names(buildSpec(image, { ...base, capAdd: ['SYS_ADMIN'] }))).toContain('mount');
    expect(names(buildSpec(image, { ...base, capDrop: ['SYS_CHROOT'] }))).not.toContain('chroot');
    expect(names(s)).toContain('chroot');
  });

  it('has none when unconfined or privileged', () => {
    expect(buildSpec(image, { ...base, seccomp: 'unconfined' }).linux?.seccomp).toBeUndefined();
    expect(buildSpec(image, { ...base, privileged: true }).linux?.seccomp).toBeUndefined();
  });

  it('resolves a custom profile the same way', () => {
    const { profile } = parseSeccompProfile(
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
          { names: ['chroot'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_CHROOT'] } },
        ],
      }),
    );
    expect(buildSpec(image, { ...base, seccomp: profile }).linux?.seccomp).toEqual({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    });
  });
});
