/**
 * cgroup v2 device control as an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE), the way runc's
 * libcontainer/cgroups/devices/devicefilter does it: the OCI rules are first run through the
 * cgroup v1 devices semantics (kernel security/device_cgroup.c: `a` resets the list to
 * allow-all or deny-all, and every other rule adds an exception or removes access from one), so
 * a container sees the same devices under v1 and v2; the resulting exceptions become one
 * compare block each, and the default decides the rest.
 *
 * Written by hand: the program is ~10 instructions per rule from 8 opcodes, and no Node eBPF
 * assembler exists that is smaller than this file. berth-shim loads it (`--device-filter`,
 * native/devfilter.h), since Node cannot call bpf(2).
 */
import { endianness } from 'node:os';
import type { LinuxDeviceCgroup } from '@berth/oci';
import { deviceRuleLine } from '../v1/devices.js';

/** One exception of the v1 list: a device class and the access it grants or denies. */
export interface DeviceException {
  type: 'a' | 'b' | 'c';
  /** `undefined` is the wildcard `*`. */
  major?: number;
  minor?: number;
  /** Subset of `rwm`, in that order. */
  access: string;
}

/** The v1 device list after the rules: the default for all devices, and its exceptions. */
export interface DeviceList {
  /** true: allow-list off (every device allowed unless an exception denies it). */
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

const ACCESS_ORDER = 'rwm';
const norm = (a: string) => [...ACCESS_ORDER].filter((c) => a.includes(c)).join('');
const num = (v: number | undefined) => (v === undefined || v === null || v === -1 ? undefined : v);

/**
 * Applies the rules in order with the kernel's v1 semantics (device_cgroup.c
 * devcgroup_update_access): starting from `defaultAllow` (a new v1 cgroup inherits its parent,
 * allow-all at the root). Each rule is validated as {@link deviceRuleLine} does for v1.
 *
 * @throws BerthError CGROUP_RESOURCE_INVALID naming `linux.resources.devices[i]`
 */
export function emulateDeviceRules(rules: readonly LinuxDeviceCgroup[], defaultAllow = true): DeviceList {
  const list: DeviceList = { defaultAllow, exceptions: [] };
  for (const [i, r] of rules.entries()) {
    deviceRuleLine(r, i); // validation, with the v1 messages
    const type = (r.type ?? 'a') as 'a' | 'b' | 'c';
    if (type === 'a') {
      list.defaultAllow = r.allow;
      list.exceptions = [];
      continue;
    }
    const ex: DeviceException = { type, access: norm(r.access ?? 'rwm') };
    const major = num(r.major);
    const minor = num(r.minor);
    if (major !== undefined) ex.major = major;
    if (minor !== undefined) ex.minor = minor;
    const same = (e: DeviceException) => e.type === ex.type && e.major === ex.major && e.minor === ex.minor;
    const at = list.exceptions.findIndex(same);
    // an allow in allow-all mode, or a deny in deny-all mode, removes access from an exception
    if (r.allow === list.defaultAllow) {
      if (at < 0) continue;
      const left = norm([...list.exceptions[at]!.access].filter((c) => !ex.access.includes(c)).join(''));
      if (left === '') list.exceptions.splice(at, 1);
      else list.exceptions[at]!.access = left;
    } else if (at >= 0) {
      list.exceptions[at]!.access = norm(list.exceptions[at]!.access + ex.access);
    } else {
      list.exceptions.push(ex);
    }
  }
  return list;
}

// linux/bpf.h: struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, with
// access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*
const DEV_BLOCK = 1;
const DEV_CHAR = 2;
const ACC: Readonly<Record<string, number>> = { m: 1, r: 2, w: 4 };

// opcodes (linux/bpf_common.h, linux/bpf.h)
const LDX_MEM_W = 0x61; // dst = *(u32 *)(src + off)
const ALU_AND_K = 0x54; // w_dst &= imm
const ALU_RSH_K = 0x74; // w_dst >>= imm
const ALU_MOV_X = 0xbc; // w_dst = w_src
const ALU_MOV_K = 0xb4; // w_dst = imm
const JMP_JNE_K = 0x55; // if dst != imm goto +off
const JMP_JNE_X = 0x5d; // if dst != src goto +off
const JMP_JEQ_K = 0x15; // if dst == imm goto +off
const JMP_EXIT = 0x95;

/** One eBPF instruction (struct bpf_insn). */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): BpfInsn => ({ code, dst, src, off, imm });

function accessBits(access: string): number {
  let b = 0;
  for (const c of access) b |= ACC[c] ?? 0;
  return b;
}

/**
 * The program for a device list: registers r2 = device type, r3 = requested access, r4 = major,
 * r5 = minor; one block per exception that returns the exception's verdict when it matches, then
 * the default. An allow exception matches when every requested access is in it (v1's
 * match_exception); a deny exception when any is (match_exception_partial).
 */
export function deviceProgram(list: DeviceList): BpfInsn[] {
  const out: BpfInsn[] = [
    insn(LDX_MEM_W, 2, 1, 0),
    insn(ALU_AND_K, 2, 0, 0, 0xffff),
    insn(LDX_MEM_W, 3, 1, 0),
    insn(ALU_RSH_K, 3, 0, 0, 16),
    insn(LDX_MEM_W, 4, 1, 4),
    insn(LDX_MEM_W, 5, 1, 8),
  ];
  const verdict = list.defaultAllow ? 0 : 1; // an exception says the opposite of the default
  for (const ex of list.exceptions) {
    const block: BpfInsn[] = [];
    // jumps to the next block are patched once the block's length is known
    const toNext: BpfInsn[] = [];
    if (ex.type !== 'a') {
      const j = insn(JMP_JNE_K, 2, 0, 0, ex.type === 'b' ? DEV_BLOCK : DEV_CHAR);
      block.push(j);
      toNext.push(j);
    }
    const bits = accessBits(ex.access);
    if (bits !== 7) {
      block.push(insn(ALU_MOV_X, 1, 3), insn(ALU_AND_K, 1, 0, 0, bits));
      const j = verdict === 1 ? insn(JMP_JNE_X, 1, 3) : insn(JMP_JEQ_K, 1, 0, 0, 0);
      block.push(j);
      toNext.push(j);
    }
    for (const [reg, v] of [
      [4, ex.major],
      [5, ex.minor],
    ] as const) {
      if (v === undefined) continue;
      const j = insn(JMP_JNE_K, reg, 0, 0, v | 0);
      block.push(j);
      toNext.push(j);
    }
    block.push(insn(ALU_MOV_K, 0, 0, 0, verdict), insn(JMP_EXIT));
    for (const j of toNext) j.off = block.length - block.indexOf(j) - 1;
    out.push(...block);
  }
  out.push(insn(ALU_MOV_K, 0, 0, 0, list.defaultAllow ? 1 : 0), insn(JMP_EXIT));
  return out;
}

/** struct bpf_insn[] in host byte order, as the kernel (and berth-shim) take it. */
export function encodeProgram(prog: readonly BpfInsn[], byteOrder: 'LE' | 'BE' = endianness()): Uint8Array {
  const buf = Buffer.alloc(prog.length * 8);
  for (const [i, p] of prog.entries()) {
    const o = i * 8;
    buf[o] = p.code;
    // the register nibbles follow the bitfield order of the host (dst_reg is declared first)
    buf[o + 1] = byteOrder === 'LE' ? (p.src << 4) | p.dst : (p.dst << 4) | p.src;
    if (byteOrder === 'LE') {
      buf.writeInt16LE(p.off, o + 2);
      buf.writeInt32LE(p.imm | 0, o + 4);
    } else {
      buf.writeInt16BE(p.off, o + 2);
      buf.writeInt32BE(p.imm | 0, o + 4);
    }
  }
  return new Uint8Array(buf);
}

/**
 * The device program for the spec's `linux.resources.devices`, encoded for the host, or
 * undefined when there are no rules (the cgroup then keeps what its ancestors allow, as on v1).
 *
 * @throws BerthError CGROUP_RESOURCE_INVALID naming the rule
 */
export function compileDeviceFilter(rules: readonly LinuxDeviceCgroup[]): Uint8Array | undefined {
  if (rules.length === 0) return undefined;
  return encodeProgram(deviceProgram(emulateDeviceRules(rules)));
}
