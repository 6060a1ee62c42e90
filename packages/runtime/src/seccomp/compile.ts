/**
 * compileSeccomp: an OCI `linux.seccomp` section to a classic BPF program (struct sock_filter[])
 * that the shim loads with seccomp(2), with libseccomp's semantics as runc uses it:
 *
 * 1. the arch is checked first: each covered AUDIT_ARCH jumps to its section; any other arch
 *    gets libseccomp's default bad-arch action, SECCOMP_RET_KILL_THREAD. On x86_64 a syscall
 *    number with __X32_SYSCALL_BIT set goes to the x32 section when the filter covers
 *    SCMP_ARCH_X32, and is otherwise rejected with the bad-arch action (nr -1 excepted, which
 *    tracers use to skip a syscall: it gets the default action);
 * 2. the syscall number is found by a binary search over ranges of numbers that share an
 *    outcome (JGE comparisons, so about log2(ranges) instructions per syscall);
 * 3. a syscall with argument rules runs them in profile order: conditions within a rule are
 *    ANDed, rules are ORed, the first matching rule's action wins, then the syscall's
 *    unconditional action if it has one, else the default action. 64-bit arguments are compared
 *    as two 32-bit halves (high first); on 32-bit ABIs (x86, x32, arm) only the low half, as
 *    libseccomp does;
 * 4. runc's -ENOSYS stub: when the default action is not allow-like, a syscall numbered above
 *    the highest one the filter names for that ABI gets ERRNO(ENOSYS), so libcs fall back from
 *    syscalls newer than the profile (runc libcontainer/seccomp/patchbpf).
 *
 * Syscall names unknown for an ABI are skipped, as runc does, and reported in `warnings`.
 * Jumps farther than 255 instructions go through JA trampolines (32-bit offsets).
 * Syscall numbers: `syscalls.json`, generated from libseccomp's src/syscalls.csv by
 * testdata/seccomp/generate-syscall-table.mjs (its `source` field names the commit).
 */
import {
  BerthError,
  type LinuxSeccomp,
  type LinuxSeccompAction,
  type LinuxSeccompArg,
  type LinuxSeccompOperator,
} from '@berth/oci';
import { hostSeccompArch, SCMP_ARCHES, type SeccompArch } from './profile.js';

/** One classic BPF instruction (struct sock_filter). */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** A compiled filter. */
export interface SeccompProgram {
  instructions: SockFilter[];
  /** struct sock_filter[] in little-endian byte order, as the shim takes it. */
  bytes: Uint8Array;
  /** Syscall names skipped because an ABI does not have them. */
  warnings: string[];
}

/** Options of {@link compileSeccomp}. */
export interface CompileSeccompOptions {
  /** The architecture the program is for; default the host's. */
  arch?: SeccompArch;
}

/** SECCOMP_RET_* action values (linux/seccomp.h). */
export const SECCOMP_RET = Object.freeze({
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
});

/** AUDIT_ARCH_* values (linux/audit.h) berth compiles sections for. */
export const AUDIT_ARCH = Object.freeze({
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
});

/** The x32 ABI's flag in the syscall number (asm/unistd.h). */
export const X32_SYSCALL_BIT = 0x40000000;

/** The kernel's limit on a classic BPF program (linux/bpf_common.h). */
export const BPF_MAXINSNS = 4096;

// classic BPF opcodes (linux/bpf_common.h)
const LD_W_ABS = 0x20;
const JA = 0x05;
const JEQ = 0x15;
const JGT = 0x25;
const JGE = 0x35;
const JSET = 0x45;
const AND_K = 0x54;
const RET_K = 0x06;

const EPERM = 1;
const ENOSYS = 38;

/** seccomp_data offsets: nr, arch, instruction_pointer, args[6] (little-endian halves). */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number): number => 16 + 8 * i;
const argHi = (i: number): number => 16 + 8 * i + 4;

interface Abi {
  scmp: string;
  audit: number;
  table: Readonly<Record<string, number>>;
  bits: 32 | 64;
}

type Tables = Readonly<Record<string, Readonly<Record<string, number>>>>;
let abisMemo: Readonly<Record<string, Abi>> | undefined;

/**
 * The syscall tables per ABI, made on first use: syscalls.json is ~2000 numbers whose objects
 * take ~1-2 ms of CPU to build, and a start whose program comes from the seccomp cache never
 * compiles. A `require` of the JSON, not an `import`: a bundler inlines it behind a function it
 * calls here (an `import` is initialised with this module), and under vitest it is Node's own.
 */
function abiTables(): Readonly<Record<string, Abi>> {
  if (abisMemo) return abisMemo;
  const tables = (require('./syscalls.json') as { arches: Tables }).arches;
  abisMemo = {
    SCMP_ARCH_X86_64: { scmp: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH.X86_64, table: tables.x86_64!, bits: 64 },
    SCMP_ARCH_X32: { scmp: 'SCMP_ARCH_X32', audit: AUDIT_ARCH.X86_64, table: tables.x32!, bits: 32 },
    SCMP_ARCH_X86: { scmp: 'SCMP_ARCH_X86', audit: AUDIT_ARCH.I386, table: tables.x86!, bits: 32 },
    SCMP_ARCH_AARCH64: {
      scmp: 'SCMP_ARCH_AARCH64',
      audit: AUDIT_ARCH.AARCH64,
      table: tables.aarch64!,
      bits: 64,
    },
    SCMP_ARCH_ARM: { scmp: 'SCMP_ARCH_ARM', audit: AUDIT_ARCH.ARM, table: tables.arm!, bits: 32 },
  };
  return abisMemo;
}

/** The ABIs a kernel of each architecture runs, native first. */
const HOST_ABIS: Readonly<Record<SeccompArch, readonly string[]>> = {
  x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86'],
  aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

/**
 * The syscall number of `name` for an ABI (`SCMP_ARCH_X86_64`...), or undefined. x32 numbers
 * include __X32_SYSCALL_BIT.
 */
export function syscallNumber(name: string, abi: string): number | undefined {
  const t = abiTables()[abi]?.table;
  return t && Object.hasOwn(t, name) ? t[name] : undefined;
}

const OPERATORS: readonly string[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

function invalid(field: string, message: string): BerthError<'SECCOMP_PROFILE_INVALID'> {
  return new BerthError('SECCOMP_PROFILE_INVALID', `${field}: ${message}`, { input: { field } });
}

function unsupported(field: string, message: string): BerthError<'SECCOMP_UNSUPPORTED'> {
  return new BerthError('SECCOMP_UNSUPPORTED', `${field}: ${message}`, { input: { field } });
}

/** The SECCOMP_RET_* value of an action (runc's defaults: ERRNO and TRACE carry EPERM). */
function retValue(action: unknown, errnoRet: unknown, field: string): number {
  const errno = (): number => {
    if (errnoRet === undefined || errnoRet === null) return EPERM;
    if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > 0xffff)
      throw invalid(`${field}.errnoRet`, `${JSON.stringify(errnoRet)} is not an errno (0..65535)`);
    return errnoRet;
  };
  switch (action as LinuxSeccompAction) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET.ERRNO | errno()) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET.TRACE | errno()) >>> 0;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_NOTIFY':
      throw unsupported(
        `${field}.action`,
        'SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath), which berth does not support',
      );
    default:
      throw invalid(`${field}.action`, `${JSON.stringify(action)} is not a seccomp action`);
  }
}

interface Cond {
  index: number;
  op: LinuxSeccompOperator;
  value: number;
  valueTwo: number;
}

interface Rule {
  conds: Cond[];
  ret: number;
  field: string;
}

function u64(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw invalid(field, `${JSON.stringify(v)} is not an unsigned integer below 2^53`);
  return v;
}

function cond(a: LinuxSeccompArg, field: string): Cond {
  if (typeof a !== 'object' || a === null) throw invalid(field, 'must be an object');
  if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5)
    throw invalid(`${field}.index`, `${JSON.stringify(a.index)} is not an argument index 0..5`);
  if (!OPERATORS.includes(a.op)) throw invalid(`${field}.op`, `${JSON.stringify(a.op)} is not an operator`);
  return {
    index: a.index,
    op: a.op,
    value: u64(a.value ?? 0, `${field}.value`),
    valueTwo: u64(a.valueTwo ?? 0, `${field}.valueTwo`),
  };
}

/** A syscall's rules in one ABI: argument rules in order, then an unconditional action. */
interface SyscallRules {
  conditional: Rule[];
  unconditional?: { ret: number; field: string };
}

// ---- assembler: labels, forward jumps, JA trampolines for offsets above 255 ----

interface Insn {
  code: number;
  k: number;
  /** Conditional jumps: label of the true and false targets. JA: `jt` is the target. */
  jt?: string;
  jf?: string;
}

class Assembler {
  private items: (Insn | { label: string })[] = [];
  private n = 0;

  fresh(prefix = 'L'): string {
    return `${prefix}${this.n++}`;
  }
  label(name: string): void {
    this.items.push({ label: name });
  }
  ld(off: number): void {
    this.items.push({ code: LD_W_ABS, k: off });
  }
  and(k: number): void {
    this.items.push({ code: AND_K, k: k >>> 0 });
  }
  ret(k: number): void {
    this.items.push({ code: RET_K, k: k >>> 0 });
  }
  ja(target: string): void {
    this.items.push({ code: JA, k: 0, jt: target });
  }
  jmp(code: number, k: number, jt: string, jf: string): Insn {
    const insn = { code, k: k >>> 0, jt, jf };
    this.items.push(insn);
    return insn;
  }

  /** Resolves labels, inserting a JA after any conditional jump whose target is too far. */
  assemble(): SockFilter[] {
    let items = this.items;
    for (;;) {
      const pos = new Map<string, number>();
      const at: number[] = [];
      let p = 0;
      for (const it of items) {
        if ('label' in it) pos.set(it.label, p);
        else at.push(p++);
      }
      const where = (l: string | undefined, from: number, what: string): number => {
        const t = l === undefined ? undefined : pos.get(l);
        if (t === undefined || t <= from)
          throw new Error(`seccomp assembler: ${what} to ${l} is not forward`);
        return t - from - 1;
      };
      let far = false;
      const next: (Insn | { label: string })[] = [];
      let i = 0;
      for (const it of items) {
        next.push(it);
        if ('label' in it) continue;
        const me = at[i++]!;
        if (it.code === JA || it.jt === undefined) continue;
        const tramps: Insn[] = [];
        for (const side of ['jt', 'jf'] as const) {
          const off = where(it[side], me, side);
          if (off > 255) {
            far = true;
            const t = this.fresh('T');
            tramps.push({ code: JA, k: 0, jt: it[side] });
            it[side] = t;
            next.push({ label: t });
            next.push(tramps[tramps.length - 1]!);
          }
        }
      }
      items = next;
      if (far) continue;
      // final pass: positions are stable
      const out: SockFilter[] = [];
      let q = 0;
      for (const it of items) {
        if ('label' in it) continue;
        if (it.code === JA) out.push({ code: JA, jt: 0, jf: 0, k: where(it.jt, q, 'ja') });
        else if (it.jt !== undefined)
          out.push({ code: it.code, jt: where(it.jt, q, 'jt'), jf: where(it.jf, q, 'jf'), k: it.k });
        else out.push({ code: it.code, jt: 0, jf: 0, k: it.k });
        q++;
      }
      return out;
    }
  }
}

/** Emits `arg[c.index] <op> value` jumping to pass or fail. */
function emitCond(a: Assembler, c: Cond, bits: 32 | 64, pass: string, fail: string): void {
  const hi = (v: number): number => Math.floor(v / 2 ** 32) >>> 0;
  const lo = (v: number): number => v >>> 0;
  const wide = bits === 64;
  const step = (): string => a.fresh();
  // tests of the form: high half decides unless equal, then the low half decides
  const ordered = (loCode: number, yes: string, no: string): void => {
    if (wide) {
      const eq = step();
      const tie = step();
      a.ld(argHi(c.index));
      a.jmp(JGT, hi(c.value), yes, eq);
      a.label(eq);
      a.jmp(JEQ, hi(c.value), tie, no);
      a.label(tie);
    }
    a.ld(argLo(c.index));
    a.jmp(loCode, lo(c.value), yes, no);
  };
  switch (c.op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_NE': {
      const [yes, no] = c.op === 'SCMP_CMP_EQ' ? [pass, fail] : [fail, pass];
      if (wide) {
        const l = step();
        a.ld(argHi(c.index));
        a.jmp(JEQ, hi(c.value), l, no);
        a.label(l);
      }
      a.ld(argLo(c.index));
      a.jmp(JEQ, lo(c.value), yes, no);
      return;
    }
    case 'SCMP_CMP_GT':
      ordered(JGT, pass, fail);
      return;
    case 'SCMP_CMP_GE':
      ordered(JGE, pass, fail);
      return;
    case 'SCMP_CMP_LE': // not GT
      ordered(JGT, fail, pass);
      return;
    case 'SCMP_CMP_LT': // not GE
      ordered(JGE, fail, pass);
      return;
    case 'SCMP_CMP_MASKED_EQ': {
      // OCI/libseccomp: value is the mask, valueTwo the datum: (arg & value) == valueTwo
      if (wide) {
        const l = step();
        a.ld(argHi(c.index));
        a.and(hi(c.value));
        a.jmp(JEQ, hi(c.valueTwo), l, fail);
        a.label(l);
      }
      a.ld(argLo(c.index));
      a.and(lo(c.value));
      a.jmp(JEQ, lo(c.valueTwo), pass, fail);
      return;
    }
  }
}

const retLabel = (k: number): string => `R${(k >>> 0).toString(16)}`;

/**
 * Compiles an OCI seccomp section to classic BPF for `arch` (default the host's). The section is
 * validated as hostile input (it may come from a bundle's config.json).
 *
 * @throws BerthError SECCOMP_PROFILE_INVALID naming the field (`linux.seccomp.syscalls[3].args[0].op`),
 *   SECCOMP_UNSUPPORTED (SCMP_ACT_NOTIFY, listenerPath, flags), SECCOMP_TOO_LONG
 */
export function compileSeccomp(seccomp: LinuxSeccomp, opts: CompileSeccompOptions = {}): SeccompProgram {
  const F = 'linux.seccomp';
  if (typeof seccomp !== 'object' || seccomp === null) throw invalid(F, 'must be an object');
  const arch = opts.arch ?? hostSeccompArch();
  if (!HOST_ABIS[arch]) throw unsupported('arch', `${JSON.stringify(arch)} is not x86_64 or aarch64`);
  const defaultRet = retValue(seccomp.defaultAction, seccomp.defaultErrnoRet, `${F}.default`);
  if (seccomp.listenerPath)
    throw unsupported(`${F}.listenerPath`, 'seccomp agents (SCMP_ACT_NOTIFY) are not supported');
  if (seccomp.flags !== undefined && seccomp.flags !== null) {
    if (!Array.isArray(seccomp.flags)) throw invalid(`${F}.flags`, 'must be an array');
    if (seccomp.flags.length)
      throw unsupported(`${F}.flags`, `${seccomp.flags.join(', ')}: filter flags are not supported`);
  }
  const listed = seccomp.architectures ?? [];
  if (!Array.isArray(listed)) throw invalid(`${F}.architectures`, 'must be an array');
  listed.forEach((x, i) => {
    if (typeof x !== 'string' || !SCMP_ARCHES.includes(x))
      throw invalid(`${F}.architectures[${i}]`, `${JSON.stringify(x)} is not an SCMP_ARCH_* architecture`);
  });
  // libseccomp always covers the native ABI; other ABIs this kernel can run when listed
  const [native, ...compat] = HOST_ABIS[arch];
  const abis = [native!, ...compat.filter((x) => listed.includes(x))].map((x) => abiTables()[x]!);

  const syscalls = seccomp.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw invalid(`${F}.syscalls`, 'must be an array');
  const perAbi = new Map<string, Map<number, SyscallRules>>(abis.map((x) => [x.scmp, new Map()]));
  const maxNr = new Map<string, number>();
  const warnings: string[] = [];
  syscalls.forEach((s, i) => {
    const f = `${F}.syscalls[${i}]`;
    if (typeof s !== 'object' || s === null) throw invalid(f, 'must be an object');
    if (!Array.isArray(s.names) || s.names.length === 0) throw invalid(`${f}.names`, 'must list syscalls');
    if (s.errnoRet != null && s.action !== 'SCMP_ACT_ERRNO' && s.action !== 'SCMP_ACT_TRACE')
      throw invalid(`${f}.errnoRet`, 'only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno');
    const ret = retValue(s.action, s.errnoRet, f);
    if (s.args != null && !Array.isArray(s.args)) throw invalid(`${f}.args`, 'must be an array');
    const conds = (s.args ?? []).map((a, j) => cond(a, `${f}.args[${j}]`));
    s.names.forEach((name, j) => {
      if (typeof name !== 'string' || name === '')
        throw invalid(`${f}.names[${j}]`, 'must be a syscall name');
      let known = false;
      for (const abi of abis) {
        const nr = abi.table[name];
        if (nr === undefined || !Object.hasOwn(abi.table, name)) continue;
        known = true;
        maxNr.set(abi.scmp, Math.max(maxNr.get(abi.scmp) ?? -1, nr));
        const m = perAbi.get(abi.scmp)!;
        const r = m.get(nr) ?? { conditional: [] };
        m.set(nr, r);
        if (conds.length) r.conditional.push({ conds, ret, field: f });
        else if (r.unconditional === undefined) r.unconditional = { ret, field: f };
        else if (r.unconditional.ret !== ret)
          throw invalid(
            `${f}.names[${j}]`,
            `"${name}" already has another action in ${r.unconditional.field} (libseccomp refuses conflicting rules)`,
          );
      }
      if (!known) warnings.push(`${f}.names[${j}]: syscall "${name}" unknown on ${arch}, ignored`);
    });
  });

  // runc's -ENOSYS stub applies unless the default action lets syscalls through
  const allowLike =
    defaultRet === SECCOMP_RET.ALLOW || defaultRet === SECCOMP_RET.LOG || defaultRet >>> 16 === 0x7ff0;
  const enosys = (SECCOMP_RET.ERRNO | ENOSYS) >>> 0;

  const a = new Assembler();
  const rets = new Set<number>([defaultRet, SECCOMP_RET.KILL_THREAD]);
  const blocks: { label: string; rules: SyscallRules; bits: 32 | 64 }[] = [];
  a.ld(OFF_ARCH);
  const sectionOf = new Map<number, string>();
  for (const abi of abis) if (!sectionOf.has(abi.audit)) sectionOf.set(abi.audit, a.fresh('A'));
  for (const [audit, label] of sectionOf) {
    const nextArch = a.fresh();
    a.jmp(JEQ, audit, label, nextArch);
    a.label(nextArch);
  }
  a.ret(SECCOMP_RET.KILL_THREAD); // libseccomp's default bad-arch action

  const dispatch = (abi: Abi): void => {
    const rules = perAbi.get(abi.scmp)!;
    const max = maxNr.get(abi.scmp) ?? -1;
    const beyond = !allowLike && max >= 0 ? enosys : defaultRet;
    rets.add(beyond);
    const outcome = new Map<number, string>();
    for (const [nr, r] of rules) {
      if (r.conditional.length === 0) {
        rets.add(r.unconditional!.ret);
        outcome.set(nr, retLabel(r.unconditional!.ret));
      } else {
        const l = a.fresh('S');
        blocks.push({ label: l, rules: r, bits: abi.bits });
        if (r.unconditional) rets.add(r.unconditional.ret);
        outcome.set(nr, l);
      }
    }
    // ranges [lo, next lo) with one outcome each, covering 0..2^32-1
    const base = abi.scmp === 'SCMP_ARCH_X32' ? X32_SYSCALL_BIT : 0;
    const segs: { lo: number; label: string }[] = [];
    const push = (lo: number, label: string): void => {
      if (segs.length && segs[segs.length - 1]!.lo === lo) segs.pop();
      if (segs.length && segs[segs.length - 1]!.label === label) return;
      segs.push({ lo, label });
    };
    push(0, retLabel(defaultRet));
    const nrs = [...outcome.keys()].sort((x, y) => x - y);
    let prev = base - 1;
    for (const nr of nrs) {
      if (nr > prev + 1) push(prev + 1, retLabel(defaultRet));
      push(nr, outcome.get(nr)!);
      prev = nr;
    }
    if (max >= 0) push(max + 1, retLabel(beyond));
    // binary search: each node tests nr >= the first number of its right half
    const tree = (i: number, j: number): string => {
      if (i === j) return segs[i]!.label;
      const mid = (i + j + 1) >> 1;
      const l = a.fresh('B');
      a.label(l);
      const insn = a.jmp(JGE, segs[mid]!.lo, '', '');
      insn.jf = tree(i, mid - 1); // emitted right after this test
      insn.jt = tree(mid, j);
      return l;
    };
    const root = tree(0, segs.length - 1);
    if (segs.length === 1) a.ja(root);
  };

  for (const [audit, label] of sectionOf) {
    a.label(label);
    a.ld(OFF_NR);
    const [main, x32] = abis.filter((x) => x.audit === audit);
    if (audit === AUDIT_ARCH.X86_64) {
      const x32Label = a.fresh('X');
      const natural = a.fresh();
      a.jmp(JSET, X32_SYSCALL_BIT, x32Label, natural);
      a.label(natural);
      dispatch(main!);
      a.label(x32Label);
      if (x32) dispatch(x32);
      else {
        // nr -1 (a tracer skipping the syscall) reaches the rules, which match nothing
        const bad = a.fresh();
        a.jmp(JEQ, 0xffffffff, retLabel(defaultRet), bad);
        a.label(bad);
        a.ret(SECCOMP_RET.KILL_THREAD);
      }
    } else dispatch(main!);
  }

  for (const b of blocks) {
    a.label(b.label);
    const fallback = retLabel(b.rules.unconditional?.ret ?? defaultRet);
    b.rules.conditional.forEach((r, i) => {
      const last = i === b.rules.conditional.length - 1;
      const next = last ? fallback : a.fresh();
      r.conds.forEach((c, j) => {
        const pass = j === r.conds.length - 1 ? retLabel(r.ret) : a.fresh();
        rets.add(r.ret);
        emitCond(a, c, b.bits, pass, next);
        if (pass !== retLabel(r.ret)) a.label(pass);
      });
      if (!last) a.label(next);
    });
  }
  for (const k of rets) {
    a.label(retLabel(k));
    a.ret(k);
  }
  const instructions = a.assemble();
  if (instructions.length > BPF_MAXINSNS)
    throw new BerthError(
      'SECCOMP_TOO_LONG',
      `${F}: compiled to ${instructions.length} instructions, more than the kernel's ${BPF_MAXINSNS}`,
      { input: { field: F } },
    );
  return { instructions, bytes: encodeSockFilters(instructions), warnings };
}

/** struct sock_filter[] as little-endian bytes (x86_64 and aarch64 are little-endian). */
export function encodeSockFilters(ins: readonly SockFilter[]): Uint8Array {
  const buf = new Uint8Array(ins.length * 8);
  const v = new DataView(buf.buffer);
  ins.forEach((x, i) => {
    v.setUint16(i * 8, x.code, true);
    v.setUint8(i * 8 + 2, x.jt);
    v.setUint8(i * 8 + 3, x.jf);
    v.setUint32(i * 8 + 4, x.k >>> 0, true);
  });
  return buf;
}
