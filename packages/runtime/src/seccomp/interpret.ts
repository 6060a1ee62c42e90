/**
 * A classic BPF interpreter over seccomp_data, for checking what a filter decides without
 * loading it: tests use it to hold the compiler to the profile's meaning, and it answers "what
 * would this container get for syscall N with these arguments" when debugging a profile. It
 * runs the instructions seccomp allows (linux/kernel/seccomp.c seccomp_check_filter) and checks
 * what the kernel's verifier checks: forward in-bounds jumps, aligned 32-bit loads, a return.
 */
import { BerthError } from '@berth/oci';
import type { SockFilter } from './compile.js';

/** What a syscall looks like to a seccomp filter (struct seccomp_data). */
export interface SeccompData {
  nr: number;
  /** AUDIT_ARCH_* value. */
  arch: number;
  instructionPointer?: bigint;
  /** Up to six arguments, as unsigned 64-bit values. */
  args?: readonly bigint[];
}

/** Error codes of {@link runSeccompFilter}. */
export const SeccompFilterErrorCode = {
  /** The program does something the kernel's verifier would refuse. */
  SECCOMP_FILTER_INVALID: 'SECCOMP_FILTER_INVALID',
} as const;
/** Union of {@link SeccompFilterErrorCode} values. */
export type SeccompFilterErrorCode = (typeof SeccompFilterErrorCode)[keyof typeof SeccompFilterErrorCode];

function bad(pc: number, message: string): BerthError<'SECCOMP_FILTER_INVALID'> {
  return new BerthError('SECCOMP_FILTER_INVALID', `seccomp filter: instruction ${pc}: ${message}`, {
    input: { field: `instructions[${pc}]` },
  });
}

/** The 64-byte seccomp_data image, little-endian. */
function dataWords(d: SeccompData): Uint32Array {
  const buf = new DataView(new ArrayBuffer(64));
  buf.setUint32(0, d.nr >>> 0, true);
  buf.setUint32(4, d.arch >>> 0, true);
  buf.setBigUint64(8, BigInt.asUintN(64, d.instructionPointer ?? 0n), true);
  for (let i = 0; i < 6; i++) buf.setBigUint64(16 + 8 * i, BigInt.asUintN(64, d.args?.[i] ?? 0n), true);
  return new Uint32Array(Array.from({ length: 16 }, (_, i) => buf.getUint32(i * 4, true)));
}

/**
 * Runs a seccomp filter on one syscall and returns its SECCOMP_RET_* value (action in the high
 * 16 bits, data such as the errno in the low 16).
 *
 * @throws BerthError SECCOMP_FILTER_INVALID for an instruction seccomp refuses, a jump out of
 *   the program, a misaligned or out-of-range load, or a program that runs off its end
 */
export function runSeccompFilter(program: readonly SockFilter[], data: SeccompData): number {
  if (program.length === 0 || program.length > 4096) throw bad(0, `length ${program.length}`);
  const mem = dataWords(data);
  const scratch = new Uint32Array(16);
  let A = 0;
  let X = 0;
  let pc = 0;
  for (;;) {
    const ins = program[pc];
    if (!ins) throw bad(pc, 'runs off the end of the program');
    const { code, jt, jf } = ins;
    const k = ins.k >>> 0;
    const jump = (off: number): void => {
      if (pc + 1 + off >= program.length) throw bad(pc, `jump of ${off} leaves the program`);
      pc += 1 + off;
    };
    switch (code) {
      case 0x20: // LD W ABS
        if (k % 4 !== 0 || k >= 64) throw bad(pc, `load at offset ${k}`);
        A = mem[k / 4]!;
        pc++;
        break;
      case 0x80: // LD W LEN
        A = 64;
        pc++;
        break;
      case 0x00: // LD IMM
        A = k;
        pc++;
        break;
      case 0x01: // LDX IMM
        X = k;
        pc++;
        break;
      case 0x81: // LDX W LEN
        X = 64;
        pc++;
        break;
      case 0x60: // LD MEM
        if (k >= 16) throw bad(pc, `scratch ${k}`);
        A = scratch[k]!;
        pc++;
        break;
      case 0x61: // LDX MEM
        if (k >= 16) throw bad(pc, `scratch ${k}`);
        X = scratch[k]!;
        pc++;
        break;
      case 0x02: // ST
        if (k >= 16) throw bad(pc, `scratch ${k}`);
        scratch[k] = A;
        pc++;
        break;
      case 0x03: // STX
        if (k >= 16) throw bad(pc, `scratch ${k}`);
        scratch[k] = X;
        pc++;
        break;
      case 0x04: // ALU ADD K
        A = (A + k) >>> 0;
        pc++;
        break;
      case 0x14: // ALU SUB K
        A = (A - k) >>> 0;
        pc++;
        break;
      case 0x54: // ALU AND K
        A = (A & k) >>> 0;
        pc++;
        break;
      case 0x44: // ALU OR K
        A = (A | k) >>> 0;
        pc++;
        break;
      case 0xa4: // ALU XOR K
        A = (A ^ k) >>> 0;
        pc++;
        break;
      case 0x64: // ALU LSH K
        A = k >= 32 ? 0 : (A << k) >>> 0;
        pc++;
        break;
      case 0x74: // ALU RSH K
        A = k >= 32 ? 0 : A >>> k;
        pc++;
        break;
      case 0x84: // ALU NEG
        A = -A >>> 0;
        pc++;
        break;
      case 0x07: // TAX
        X = A;
        pc++;
        break;
      case 0x87: // TXA
        A = X;
        pc++;
        break;
      case 0x05: // JA
        jump(k);
        break;
      case 0x15: // JEQ K
        jump(A === k ? jt : jf);
        break;
      case 0x25: // JGT K
        jump(A > k ? jt : jf);
        break;
      case 0x35: // JGE K
        jump(A >= k ? jt : jf);
        break;
      case 0x45: // JSET K
        jump((A & k) !== 0 ? jt : jf);
        break;
      case 0x1d: // JEQ X
        jump(A === X ? jt : jf);
        break;
      case 0x2d: // JGT X
        jump(A > X ? jt : jf);
        break;
      case 0x3d: // JGE X
        jump(A >= X ? jt : jf);
        break;
      case 0x06: // RET K
        return k;
      case 0x16: // RET A
        return A;
      default:
        throw bad(pc, `opcode 0x${code.toString(16)} is not allowed in seccomp filters`);
    }
  }
}
