import { isBerthError, type LinuxDeviceCgroup } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { buildSpec } from '../../spec.js';
import {
  type BpfInsn,
  compileDeviceFilter,
  deviceProgram,
  emulateDeviceRules,
  encodeProgram,
} from './device-filter.js';

/** Runs a device program on one request, as the kernel would: the verdict (1 allow, 0 deny). */
function run(
  prog: readonly BpfInsn[],
  type: 'b' | 'c',
  access: string,
  major: number,
  minor: number,
): number {
  const acc =
    (access.includes('m') ? 1 : 0) | (access.includes('r') ? 2 : 0) | (access.includes('w') ? 4 : 0);
  const ctx = [((acc << 16) | (type === 'b' ? 1 : 2)) >>> 0, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; pc < prog.length && steps < 10_000; pc++, steps++) {
    const i = prog[pc]!;
    const imm = i.imm >>> 0;
    switch (i.code) {
      case 0x61:
        r[i.dst] = ctx[i.off / 4]!;
        break;
      case 0x54:
        r[i.dst] = (r[i.dst]! & imm) >>> 0;
        break;
      case 0x74:
        r[i.dst] = r[i.dst]! >>> imm;
        break;
      case 0xbc:
        r[i.dst] = r[i.src]!;
        break;
      case 0xb4:
        r[i.dst] = imm;
        break;
      case 0x55:
        if (r[i.dst] !== imm) pc += i.off;
        break;
      case 0x5d:
        if (r[i.dst] !== r[i.src]) pc += i.off;
        break;
      case 0x15:
        if (r[i.dst] === imm) pc += i.off;
        break;
      case 0x95:
        return r[0]!;
      default:
        throw new Error(`opcode ${i.code.toString(16)}`);
    }
  }
  throw new Error('fell off the program');
}

const verdicts = (rules: LinuxDeviceCgroup[], cases: ['b' | 'c', string, number, number][]) => {
  const prog = deviceProgram(emulateDeviceRules(rules));
  return cases.map(([t, a, ma, mi]) => run(prog, t, a, ma, mi));
};

describe('emulateDeviceRules (cgroup v1 semantics)', () => {
  it('`a` resets the list; allows add exceptions in deny-all mode, merging access', () => {
    expect(
      emulateDeviceRules([
        { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'wm' },
        { allow: true, type: 'b', access: 'm' },
      ]),
    ).toEqual({
      defaultAllow: false,
      exceptions: [
        { type: 'c', major: 1, minor: 3, access: 'rwm' },
        { type: 'b', access: 'm' },
      ],
    });
  });

  it('a deny in deny-all mode removes access from the same exception, dropping it when empty', () => {
    const list = emulateDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      { allow: false, type: 'c', major: 1, minor: 5, access: 'w' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'rw' },
      { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ]);
    expect(list).toEqual({
      defaultAllow: false,
      exceptions: [{ type: 'c', major: 1, minor: 5, access: 'rm' }],
    });
  });

  it('in allow-all mode a deny adds an exception and an allow removes access from it', () => {
    expect(
      emulateDeviceRules([
        { allow: true, access: 'rwm' },
        { allow: false, type: 'b', major: 8, access: 'rw' },
        { allow: true, type: 'b', major: 8, access: 'r' },
      ]),
    ).toEqual({ defaultAllow: true, exceptions: [{ type: 'b', major: 8, access: 'w' }] });
  });

  it('rejects a bad rule naming it, as v1 does', () => {
    let err: unknown;
    try {
      emulateDeviceRules([{ allow: true, type: 'x', access: 'rwm' }]);
    } catch (e) {
      err = e;
    }
    expect(isBerthError(err, 'CGROUP_RESOURCE_INVALID')).toBe(true);
    expect((err as Error).message).toContain('linux.resources.devices[0]');
  });
});

describe('deviceProgram', () => {
  it("buildSpec's default rules (docker's): the six nodes, nothing else", () => {
    const rules = buildSpec(undefined, { cmd: ['true'] }).linux?.resources?.devices ?? [];
    expect(
      verdicts(rules, [
        ['c', 'rw', 1, 3],
        ['c', 'rwm', 1, 9],
        ['c', 'rw', 5, 0],
        ['c', 'r', 1, 1],
        ['c', 'rw', 10, 229],
        ['b', 'r', 8, 0],
      ]),
    ).toEqual([1, 1, 1, 0, 0, 0]);
  });

  it('an allow exception needs every requested access; wildcards match any number', () => {
    expect(
      verdicts(
        [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
          { allow: true, type: 'c', major: 136, access: 'rwm' },
          { allow: true, type: 'b', access: 'm' },
        ],
        [
          ['c', 'r', 1, 3],
          ['c', 'rw', 1, 3],
          ['c', 'w', 1, 3],
          ['b', 'r', 1, 3],
          ['c', 'rw', 136, 7],
          ['c', 'rw', 137, 7],
          ['b', 'm', 259, 1],
          ['b', 'rm', 259, 1],
        ],
      ),
    ).toEqual([1, 0, 0, 0, 1, 0, 1, 0]);
  });

  it('a deny exception in allow-all mode denies when any requested access is in it', () => {
    expect(
      verdicts(
        [
          { allow: true, access: 'rwm' },
          { allow: false, type: 'b', major: 8, minor: 0, access: 'w' },
        ],
        [
          ['b', 'r', 8, 0],
          ['b', 'rw', 8, 0],
          ['b', 'w', 8, 1],
          ['c', 'w', 8, 0],
        ],
      ),
    ).toEqual([1, 0, 1, 1]);
  });

  it('privileged (allow all) is two instructions after the loads; no rules, no program', () => {
    expect(deviceProgram(emulateDeviceRules([{ allow: true, access: 'rwm' }])).slice(6)).toEqual([
      { code: 0xb4, dst: 0, src: 0, off: 0, imm: 1 },
      { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
    ]);
    expect(compileDeviceFilter([])).toBeUndefined();
  });
});

describe('encodeProgram', () => {
  it('writes struct bpf_insn in the byte order asked for', () => {
    const p: BpfInsn[] = [{ code: 0x61, dst: 4, src: 1, off: 4, imm: -2 }];
    expect(Buffer.from(encodeProgram(p, 'LE')).toString('hex')).toBe('61140400feffffff');
    expect(Buffer.from(encodeProgram(p, 'BE')).toString('hex')).toBe('61410004fffffffe');
  });
});
