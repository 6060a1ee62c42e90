import { isBerthError, type LinuxSeccomp, type LinuxSeccompOperator } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES } from '../spec.js';
import {
  AUDIT_ARCH,
  BPF_MAXINSNS,
  compileSeccomp,
  encodeSockFilters,
  SECCOMP_RET,
  type SockFilter,
  syscallNumber,
  X32_SYSCALL_BIT,
} from './compile.js';
import { runSeccompFilter } from './interpret.js';
import { defaultSeccomp } from './profile.js';
import tables from './syscalls.json' with { type: 'json' };

const ALLOW = SECCOMP_RET.ALLOW;
const EPERM = SECCOMP_RET.ERRNO | 1;
const ENOSYS = SECCOMP_RET.ERRNO | 38;
const KILL_THREAD = SECCOMP_RET.KILL_THREAD;

interface Abi {
  scmp: string;
  audit: number;
  table: Record<string, number>;
  wide: boolean;
}
const ABI: Record<string, Abi> = {
  SCMP_ARCH_X86_64: {
    scmp: 'SCMP_ARCH_X86_64',
    audit: AUDIT_ARCH.X86_64,
    table: tables.arches.x86_64,
    wide: true,
  },
  SCMP_ARCH_X32: { scmp: 'SCMP_ARCH_X32', audit: AUDIT_ARCH.X86_64, table: tables.arches.x32, wide: false },
  SCMP_ARCH_X86: { scmp: 'SCMP_ARCH_X86', audit: AUDIT_ARCH.I386, table: tables.arches.x86, wide: false },
  SCMP_ARCH_AARCH64: {
    scmp: 'SCMP_ARCH_AARCH64',
    audit: AUDIT_ARCH.AARCH64,
    table: tables.arches.aarch64,
    wide: true,
  },
  SCMP_ARCH_ARM: { scmp: 'SCMP_ARCH_ARM', audit: AUDIT_ARCH.ARM, table: tables.arches.arm, wide: false },
};

function retOf(action: string, errnoRet?: number): number {
  const e = errnoRet ?? 1;
  const m: Record<string, number> = {
    SCMP_ACT_ALLOW: ALLOW,
    SCMP_ACT_ERRNO: (SECCOMP_RET.ERRNO | e) >>> 0,
    SCMP_ACT_TRACE: (SECCOMP_RET.TRACE | e) >>> 0,
    SCMP_ACT_KILL: 0,
    SCMP_ACT_KILL_THREAD: 0,
    SCMP_ACT_KILL_PROCESS: SECCOMP_RET.KILL_PROCESS,
    SCMP_ACT_TRAP: SECCOMP_RET.TRAP,
    SCMP_ACT_LOG: SECCOMP_RET.LOG,
  };
  return m[action]!;
}

function holds(op: LinuxSeccompOperator, arg: bigint, value: bigint, two: bigint, wide: boolean): boolean {
  const cut = (v: bigint): bigint => (wide ? v : v & 0xffffffffn);
  const [a, v, t] = [cut(arg), cut(value), cut(two)];
  switch (op) {
    case 'SCMP_CMP_EQ':
      return a === v;
    case 'SCMP_CMP_NE':
      return a !== v;
    case 'SCMP_CMP_LT':
      return a < v;
    case 'SCMP_CMP_LE':
      return a <= v;
    case 'SCMP_CMP_GT':
      return a > v;
    case 'SCMP_CMP_GE':
      return a >= v;
    case 'SCMP_CMP_MASKED_EQ':
      return (a & v) === t;
  }
}

/**
 * The meaning of a seccomp section, written directly from the runtime-spec/libseccomp/runc
 * rules (no BPF): first matching argument rule, then the unconditional rule, then -ENOSYS
 * above the highest named syscall (when the default denies), then the default action.
 */
function oracle(s: LinuxSeccomp, abi: Abi, nr: number, args: bigint[]): number {
  const def = retOf(s.defaultAction, s.defaultErrnoRet);
  let max = -1;
  let uncond: number | undefined;
  for (const r of s.syscalls ?? []) {
    for (const name of r.names) {
      const n = Object.hasOwn(abi.table, name) ? abi.table[name] : undefined;
      if (n === undefined) continue;
      max = Math.max(max, n);
      if (n !== nr) continue;
      if (!r.args?.length) uncond ??= retOf(r.action, r.errnoRet);
    }
  }
  for (const r of s.syscalls ?? []) {
    if (!r.args?.length) continue;
    if (!r.names.some((name) => Object.hasOwn(abi.table, name) && abi.table[name] === nr)) continue;
    if (
      r.args.every((c) =>
        holds(c.op, args[c.index] ?? 0n, BigInt(c.value), BigInt(c.valueTwo ?? 0), abi.wide),
      )
    )
      return retOf(r.action, r.errnoRet);
  }
  if (uncond !== undefined) return uncond;
  const allowLike = ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(s.defaultAction);
  if (!allowLike && max >= 0 && nr > max) return ENOSYS;
  return def;
}

function run(p: readonly SockFilter[], audit: number, nr: number, args: bigint[] = []): number {
  return runSeccompFilter(p, { nr: nr >>> 0, arch: audit, args });
}

/** Static checks the kernel's verifier makes: jumps in range, loads aligned, ends in a return. */
function verify(p: readonly SockFilter[]): void {
  expect(p.length).toBeLessThanOrEqual(BPF_MAXINSNS);
  p.forEach((ins, pc) => {
    if (ins.code === 0x05) expect(pc + 1 + ins.k).toBeLessThan(p.length);
    else if ((ins.code & 0x07) === 0x05) {
      expect(pc + 1 + ins.jt).toBeLessThan(p.length);
      expect(pc + 1 + ins.jf).toBeLessThan(p.length);
    }
    if (ins.code === 0x20) expect(ins.k % 4 === 0 && ins.k < 64).toBe(true);
  });
  expect(p[p.length - 1]!.code).toBe(0x06);
}

/** A deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Argument vectors around every constant the profile compares with, plus a few extremes. */
function argVectors(s: LinuxSeccomp, rnd: () => number): bigint[][] {
  const vals = new Set<bigint>([0n, 1n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn]);
  for (const r of s.syscalls ?? [])
    for (const c of r.args ?? []) {
      for (const v of [BigInt(c.value), BigInt(c.valueTwo ?? 0)]) {
        for (const d of [v - 1n, v, v + 1n, v | (1n << 32n), v | (1n << 63n), v ^ 0x20000n])
          if (d >= 0n) vals.add(BigInt.asUintN(64, d));
      }
    }
  const list = [...vals];
  const out: bigint[][] = [];
  for (const v of list) out.push([v, v, v, v, v, v]);
  for (let i = 0; i < 40; i++)
    out.push(Array.from({ length: 6 }, () => list[Math.floor(rnd() * list.length)]!));
  return out;
}

function checkAgainstOracle(
  s: LinuxSeccomp,
  arch: 'x86_64' | 'aarch64',
  abis: string[],
  seed: number,
): number {
  const { instructions } = compileSeccomp(s, { arch });
  verify(instructions);
  const rnd = prng(seed);
  const vectors = argVectors(s, rnd);
  let checked = 0;
  for (const name of abis) {
    const abi = ABI[name]!;
    const nrs = new Set(Object.values(abi.table));
    const top = Math.max(...nrs);
    for (const extra of [top + 1, top + 50, (abi.scmp === 'SCMP_ARCH_X32' ? X32_SYSCALL_BIT : 0) + 3000])
      nrs.add(extra);
    for (const nr of nrs) {
      for (const args of vectors.slice(0, 6)) {
        expect(run(instructions, abi.audit, nr, args), `${name} nr ${nr} args ${args}`).toBe(
          oracle(s, abi, nr, args),
        );
        checked++;
      }
    }
    // every syscall the filter compares arguments of gets every vector
    const argNrs = new Set(
      (s.syscalls ?? [])
        .filter((r) => r.args?.length)
        .flatMap((r) => r.names.map((n) => abi.table[n]).filter((n) => n !== undefined)),
    );
    for (const nr of argNrs)
      for (const args of vectors) {
        expect(run(instructions, abi.audit, nr!, args), `${name} nr ${nr} args ${args}`).toBe(
          oracle(s, abi, nr!, args),
        );
        checked++;
      }
  }
  return checked;
}

describe('compileSeccomp: docker default profile', () => {
  const x86 = defaultSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'x86_64', kernel: '6.1.0' });
  const p = compileSeccomp(x86, { arch: 'x86_64' }).instructions;
  const X = AUDIT_ARCH.X86_64;
  const nr = (n: string): number => syscallNumber(n, 'SCMP_ARCH_X86_64')!;

  it('decides what docker decides for the syscalls the issue names', () => {
    expect(run(p, X, nr('read'))).toBe(ALLOW);
    expect(run(p, X, nr('unshare'), [0x10000000n])).toBe(EPERM);
    expect(run(p, X, nr('mount'))).toBe(EPERM);
    expect(run(p, X, nr('setns'))).toBe(EPERM);
    expect(run(p, X, nr('keyctl'))).toBe(EPERM);
    expect(run(p, X, nr('ptrace'))).toBe(ALLOW); // allowed since the profile's minKernel 4.8 rule
    expect(run(p, X, nr('personality'), [0n])).toBe(ALLOW);
    expect(run(p, X, nr('personality'), [8n])).toBe(ALLOW);
    expect(run(p, X, nr('personality'), [0xffffffffn])).toBe(ALLOW);
    expect(run(p, X, nr('personality'), [1n])).toBe(EPERM);
    expect(run(p, X, nr('personality'), [0x1_0000_0000n])).toBe(EPERM); // high half counts
    expect(run(p, X, nr('socket'), [2n])).toBe(ALLOW);
    expect(run(p, X, nr('socket'), [40n])).toBe(EPERM); // AF_VSOCK
    expect(run(p, X, nr('socket'), [39n])).toBe(ALLOW);
    expect(run(p, X, nr('socket'), [41n])).toBe(ALLOW);
    expect(run(p, X, nr('clone'), [0x01200011n])).toBe(ALLOW); // fork-like flags
    expect(run(p, X, nr('clone'), [0x10000000n])).toBe(EPERM); // CLONE_NEWUSER
    expect(run(p, X, nr('clone'), [0x00020000n])).toBe(EPERM); // CLONE_NEWNS
    expect(run(p, X, nr('clone3'))).toBe(ENOSYS); // so glibc falls back to clone
    expect(run(p, X, 471)).toBe(ENOSYS); // above every syscall the profile names
    expect(run(p, X, 0xffffffff)).toBe(ENOSYS); // -1 reaches the x32 section: runc's stub
    expect(run(p, X, X32_SYSCALL_BIT | 39)).toBe(ALLOW); // x32 getpid
    expect(run(p, X, X32_SYSCALL_BIT | nr('mount'))).toBe(EPERM);
    expect(run(p, AUDIT_ARCH.I386, 20)).toBe(ALLOW); // i386 getpid
    expect(run(p, AUDIT_ARCH.I386, 21)).toBe(EPERM); // i386 mount
    expect(run(p, AUDIT_ARCH.AARCH64, 172)).toBe(KILL_THREAD); // not a covered arch
  });

  it('is short and uses long jumps only where needed', () => {
    verify(p);
    expect(p.length).toBeLessThan(1000);
  });

  it('CAP_SYS_ADMIN opens mount, unshare and namespace clone flags', () => {
    const s = defaultSeccomp({ capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], arch: 'x86_64' });
    const q = compileSeccomp(s, { arch: 'x86_64' }).instructions;
    expect(run(q, X, nr('mount'))).toBe(ALLOW);
    expect(run(q, X, nr('unshare'))).toBe(ALLOW);
    expect(run(q, X, nr('clone'), [0x10000000n])).toBe(ALLOW);
    expect(run(q, X, nr('clone3'))).toBe(ALLOW);
  });

  it('matches the reference semantics for every syscall of every x86 ABI', () => {
    const n = checkAgainstOracle(x86, 'x86_64', ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86'], 1);
    expect(n).toBeGreaterThan(5000);
  });

  it('matches the reference semantics on aarch64 and arm', () => {
    const s = defaultSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'aarch64', kernel: '6.1.0' });
    expect(s.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    const q = compileSeccomp(s, { arch: 'aarch64' }).instructions;
    expect(run(q, AUDIT_ARCH.AARCH64, 97)).toBe(EPERM); // unshare
    expect(run(q, AUDIT_ARCH.AARCH64, 63)).toBe(ALLOW); // read
    expect(run(q, AUDIT_ARCH.X86_64, 0)).toBe(KILL_THREAD);
    checkAgainstOracle(s, 'aarch64', ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'], 2);
  });

  it('with every capability (docker --cap-add ALL) too', () => {
    const all = [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_TIME', 'CAP_SYSLOG'];
    const s = defaultSeccomp({ capabilities: all, arch: 'x86_64' });
    checkAgainstOracle(s, 'x86_64', ['SCMP_ARCH_X86_64'], 3);
  });
});

describe('compileSeccomp: generated profiles against the reference semantics', () => {
  const ops: LinuxSeccompOperator[] = [
    'SCMP_CMP_NE',
    'SCMP_CMP_LT',
    'SCMP_CMP_LE',
    'SCMP_CMP_EQ',
    'SCMP_CMP_GE',
    'SCMP_CMP_GT',
    'SCMP_CMP_MASKED_EQ',
  ];
  const actions = [
    'SCMP_ACT_ALLOW',
    'SCMP_ACT_ERRNO',
    'SCMP_ACT_KILL_PROCESS',
    'SCMP_ACT_TRAP',
    'SCMP_ACT_LOG',
  ];
  const names = Object.keys(tables.arches.x86_64);
  for (const seed of [11, 12, 13, 14, 15, 16]) {
    it(`random profile ${seed}`, () => {
      const rnd = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const value = (): number =>
        pick([0, 1, 2, 38, 40, 0xffff, 0x7fffffff, 0xffffffff, 0x100000000, 0x1_0000_0001, 2 ** 53 - 1]);
      const seen = new Map<string, string>();
      const syscalls: LinuxSeccomp['syscalls'] = [];
      for (let i = 0; i < 60; i++) {
        const rule = { names: [pick(names), pick(names)], action: pick(actions) as 'SCMP_ACT_ALLOW' };
        const nargs = Math.floor(rnd() * 3);
        const args = Array.from({ length: nargs }, () => ({
          index: Math.floor(rnd() * 6),
          op: pick(ops),
          value: value(),
          valueTwo: value(),
        }));
        // unconditional rules for one syscall must agree (libseccomp refuses a conflict)
        if (!nargs && rule.names.some((n) => seen.has(n) && seen.get(n) !== rule.action)) continue;
        if (!nargs) for (const n of rule.names) seen.set(n, rule.action);
        syscalls.push(nargs ? { ...rule, args } : rule);
      }
      const s: LinuxSeccomp = {
        defaultAction: seed % 2 ? 'SCMP_ACT_ERRNO' : 'SCMP_ACT_ALLOW',
        defaultErrnoRet: 13,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        syscalls,
      };
      checkAgainstOracle(s, 'x86_64', ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], seed);
    });
  }
});

describe('compileSeccomp: long jumps and limits', () => {
  it('reaches targets beyond 255 instructions through JA trampolines', () => {
    // 120 argument rules on one syscall: the early tests jump far past the rule chain
    const syscalls: LinuxSeccomp['syscalls'] = Array.from({ length: 120 }, (_, i) => ({
      names: ['write'],
      action: 'SCMP_ACT_ERRNO' as const,
      errnoRet: 100 + i,
      args: [{ index: 2, value: 1000 + i, op: 'SCMP_CMP_EQ' as const }],
    }));
    syscalls.push({ names: ['write', 'read', 'exit_group'], action: 'SCMP_ACT_ALLOW' });
    const s: LinuxSeccomp = { defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls };
    const { instructions } = compileSeccomp(s, { arch: 'x86_64' });
    verify(instructions);
    expect(instructions.some((x) => x.code === 0x05 && x.k > 255)).toBe(true);
    const X = AUDIT_ARCH.X86_64;
    expect(run(instructions, X, 1, [0n, 0n, 1000n])).toBe(SECCOMP_RET.ERRNO | 100);
    expect(run(instructions, X, 1, [0n, 0n, 1119n])).toBe(SECCOMP_RET.ERRNO | 219);
    expect(run(instructions, X, 1, [0n, 0n, 1119n | (1n << 40n)])).toBe(ALLOW);
    expect(run(instructions, X, 0)).toBe(ALLOW);
    expect(run(instructions, X, 2)).toBe(SECCOMP_RET.KILL_PROCESS);
    checkAgainstOracle(s, 'x86_64', ['SCMP_ARCH_X86_64'], 7);
  });

  it('refuses a program longer than BPF_MAXINSNS', () => {
    const syscalls = Array.from({ length: 1100 }, (_, i) => ({
      names: ['write'],
      action: 'SCMP_ACT_ALLOW' as const,
      args: [{ index: 0, value: i, op: 'SCMP_CMP_EQ' as const }],
    }));
    expect(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }, { arch: 'x86_64' })).toThrow(
      expect.objectContaining({ code: 'SECCOMP_TOO_LONG' }),
    );
  });
});

describe('compileSeccomp: arch checks', () => {
  const s: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }],
  };
  const p = compileSeccomp(s, { arch: 'x86_64' }).instructions;
  it('covers only the native ABI when no architectures are listed', () => {
    expect(run(p, AUDIT_ARCH.X86_64, 39)).toBe(ALLOW);
    expect(run(p, AUDIT_ARCH.I386, 20)).toBe(KILL_THREAD);
    expect(run(p, AUDIT_ARCH.ARM, 20)).toBe(KILL_THREAD);
  });
  it('rejects the x32 bit with the bad-arch action, but lets nr -1 reach the default', () => {
    expect(run(p, AUDIT_ARCH.X86_64, X32_SYSCALL_BIT | 39)).toBe(KILL_THREAD);
    expect(run(p, AUDIT_ARCH.X86_64, 0xffffffff)).toBe(EPERM);
  });
  it('syscalls after the last named one get ENOSYS, earlier unknown ones the default', () => {
    expect(run(p, AUDIT_ARCH.X86_64, 40)).toBe(ENOSYS);
    expect(run(p, AUDIT_ARCH.X86_64, 38)).toBe(EPERM);
  });
  it('with an allow default there is no ENOSYS stub', () => {
    const q = compileSeccomp(
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      },
      { arch: 'x86_64' },
    ).instructions;
    expect(run(q, AUDIT_ARCH.X86_64, 83)).toBe(SECCOMP_RET.ERRNO | 13);
    expect(run(q, AUDIT_ARCH.X86_64, 400)).toBe(ALLOW);
  });
  it('encodes struct sock_filter little-endian', () => {
    const b = encodeSockFilters([{ code: 0x15, jt: 1, jf: 2, k: 0xc000003e }]);
    expect(Buffer.from(b).toString('hex')).toBe('150001023e0000c0');
  });
});

describe('compileSeccomp: hostile input', () => {
  const cases: [string, unknown, string, string][] = [
    [
      'bad default action',
      { defaultAction: 'SCMP_ACT_NOPE' },
      'SECCOMP_PROFILE_INVALID',
      'linux.seccomp.default.action',
    ],
    [
      'bad operator',
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'EQ' }] }],
      },
      'SECCOMP_PROFILE_INVALID',
      'linux.seccomp.syscalls[0].args[0].op',
    ],
    [
      'arg index 6',
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [
          { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] },
        ],
      },
      'SECCOMP_PROFILE_INVALID',
      'linux.seccomp.syscalls[0].args[0].index',
    ],
    [
      'value beyond 2^53',
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [
          {
            names: ['read'],
            action: 'SCMP_ACT_ALLOW',
            args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }],
          },
        ],
      },
      'SECCOMP_PROFILE_INVALID',
      'linux.seccomp.syscalls[0].args[0].value',
    ],
    [
      'negative errno',
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: -1 }],
      },
      'SECCOMP_PROFILE_INVALID',
      'linux.seccomp.syscalls[0].errnoRet',
    ],
    [
      'no names',
      { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] },
      'SECCOMP_PROFILE_INVALID',
      'linux.seccomp.syscalls[0].names',
    ],
    [
      'conflicting actions',
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [
          { names: ['read'], action: 'SCMP_ACT_ALLOW' },
          { names: ['write', 'read'], action: 'SCMP_ACT_KILL' },
        ],
      },
      'SECCOMP_PROFILE_INVALID',
      'linux.seccomp.syscalls[1].names[1]',
    ],
    [
      'unknown arch',
      { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_PDP11'] },
      'SECCOMP_PROFILE_INVALID',
      'linux.seccomp.architectures[0]',
    ],
    [
      'notify',
      { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] },
      'SECCOMP_UNSUPPORTED',
      'linux.seccomp.syscalls[0].action',
    ],
    [
      'flags',
      { defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_LOG'] },
      'SECCOMP_UNSUPPORTED',
      'linux.seccomp.flags',
    ],
    [
      'listener',
      { defaultAction: 'SCMP_ACT_ERRNO', listenerPath: '/run/agent.sock' },
      'SECCOMP_UNSUPPORTED',
      'linux.seccomp.listenerPath',
    ],
  ];
  for (const [name, s, code, field] of cases)
    it(name, () => {
      try {
        compileSeccomp(s as LinuxSeccomp, { arch: 'x86_64' });
        expect.unreachable();
      } catch (err) {
        expect(isBerthError(err, code)).toBe(true);
        expect((err as { input?: { field: string } }).input?.field).toBe(field);
      }
    });

  it('skips names an ABI lacks and says so', () => {
    const r = compileSeccomp(
      {
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['read', 'no_such_call'], action: 'SCMP_ACT_ALLOW' }],
      },
      { arch: 'x86_64' },
    );
    expect(r.warnings).toEqual([
      'linux.seccomp.syscalls[0].names[1]: syscall "no_such_call" unknown on x86_64, ignored',
    ]);
  });
});
