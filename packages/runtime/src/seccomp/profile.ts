/**
 * Docker's seccomp profile format (the JSON `--security-opt seccomp=PROFILE.json` takes) and its
 * resolution to the OCI runtime-spec `linux.seccomp` section, as moby/profiles does it
 * (seccomp/seccomp.go types, seccomp/seccomp_linux.go setupSeccomp).
 *
 * `default-profile.json` is moby/profiles `seccomp/default.json` at commit
 * 3c28324314729dbade8287e868eef6338c42807a (2026-05-06, after tag seccomp/v0.2.3), Apache-2.0,
 * reformatted by biome only (`jq -S .` of both is identical).
 */
import { release } from 'node:os';
import {
  BerthError,
  type LinuxSeccomp,
  type LinuxSeccompAction,
  type LinuxSeccompArg,
  type LinuxSeccompOperator,
  type LinuxSyscall,
} from '@berth/oci';
import defaultProfileJson from './default-profile.json' with { type: 'json' };

/** Error codes of the seccomp profile parser, resolver and compiler. */
export const SeccompErrorCode = {
  /** The profile is not docker's format; `input.field` names the offending field. */
  SECCOMP_PROFILE_INVALID: 'SECCOMP_PROFILE_INVALID',
  /** A valid profile uses something berth cannot load (NOTIFY, flags, a listener, an arch). */
  SECCOMP_UNSUPPORTED: 'SECCOMP_UNSUPPORTED',
  /** The compiled program is longer than the kernel's 4096 instructions (BPF_MAXINSNS). */
  SECCOMP_TOO_LONG: 'SECCOMP_TOO_LONG',
} as const;
/** Union of {@link SeccompErrorCode} values. */
export type SeccompErrorCode = (typeof SeccompErrorCode)[keyof typeof SeccompErrorCode];

/** The architectures berth compiles filters for, by their kernel names. */
export type SeccompArch = 'x86_64' | 'aarch64';

/** A condition of a profile rule on the container (moby `Filter`). */
export interface SeccompProfileFilter {
  /** Capabilities (`CAP_SYS_ADMIN`) in the container's bounding set. */
  caps?: string[];
  /** libseccomp arch names (`amd64`, `arm64`, `x32`, `s390x`). */
  arches?: string[];
  /** Host kernel at least `<kernel>.<major>` (`"4.8"`). */
  minKernel?: string;
}

/** A rule of a docker profile: an OCI `LinuxSyscall` plus docker's conditions (moby `Syscall`). */
export interface SeccompProfileSyscall {
  names: string[];
  action: LinuxSeccompAction;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
  comment?: string;
  /** The rule applies only when all of these hold. */
  includes?: SeccompProfileFilter;
  /** The rule is dropped when any of these holds. */
  excludes?: SeccompProfileFilter;
}

/** An architecture and the sub-architectures it brings (moby `Architecture`). */
export interface SeccompArchMapEntry {
  architecture: string;
  subArchitectures: string[];
}

/** A docker seccomp profile (moby `Seccomp`), as parsed by {@link parseSeccompProfile}. */
export interface SeccompProfile {
  defaultAction: LinuxSeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: SeccompArchMapEntry[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: SeccompProfileSyscall[];
}

/** Options of {@link resolveSeccompProfile}. */
export interface ResolveSeccompOptions {
  /** The container's bounding capabilities (`CAP_*`), which `includes.caps`/`excludes.caps` test. */
  capabilities: readonly string[];
  /** The architecture the container runs on; default the host's. */
  arch?: SeccompArch;
  /** The host kernel release (`6.1.0-18-amd64`) for `minKernel`; default `os.release()`. */
  kernel?: string;
}

const ACTIONS: readonly LinuxSeccompAction[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];

const OPERATORS: readonly LinuxSeccompOperator[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

/** Every `SCMP_ARCH_*` name libseccomp and the runtime-spec know. */
export const SCMP_ARCHES: readonly string[] = Object.freeze([
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
]);

/** moby's goToNative + nativeToSeccomp for the arches berth runs on. */
const NATIVE: Readonly<Record<SeccompArch, { libseccomp: string; scmp: string }>> = {
  x86_64: { libseccomp: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  aarch64: { libseccomp: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
};

/**
 * The host's architecture as {@link SeccompArch}.
 * @throws BerthError SECCOMP_UNSUPPORTED on hosts other than x64 and arm64
 */
export function hostSeccompArch(): SeccompArch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new BerthError('SECCOMP_UNSUPPORTED', `seccomp: architecture ${process.arch} is not supported`, {
    input: { field: 'arch' },
  });
}

function invalid(field: string, message: string): BerthError<'SECCOMP_PROFILE_INVALID'> {
  return new BerthError('SECCOMP_PROFILE_INVALID', `seccomp profile: ${field}: ${message}`, {
    input: { field },
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Unknown fields are ignored as docker's Go decoder does, and reported as warnings. */
function checkKeys(
  o: Record<string, unknown>,
  field: string,
  allowed: readonly string[],
  warnings: string[],
): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) warnings.push(`${field ? `${field}.${k}` : k}: unknown field ignored`);
}

function stringArray(v: unknown, field: string, nonEmpty = false): string[] {
  if (!Array.isArray(v)) throw invalid(field, 'must be an array of strings');
  v.forEach((s, i) => {
    if (typeof s !== 'string' || (nonEmpty && s === '')) throw invalid(`${field}[${i}]`, 'must be a string');
  });
  return [...(v as string[])];
}

/** A u64 that JSON numbers carry exactly (up to 2^53 - 1). */
function u64(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw invalid(field, `${JSON.stringify(v)} is not an unsigned integer`);
  if (!Number.isSafeInteger(v)) throw invalid(field, `${v} is too large to be exact (max 2^53-1)`);
  return v;
}

function errno(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff)
    throw invalid(field, `${JSON.stringify(v)} is not an errno (0..65535)`);
  return v;
}

function action(v: unknown, field: string): LinuxSeccompAction {
  if (typeof v !== 'string' || !ACTIONS.includes(v as LinuxSeccompAction))
    throw invalid(field, `${JSON.stringify(v)} is not a seccomp action (${ACTIONS.join(', ')})`);
  return v as LinuxSeccompAction;
}

function scmpArch(v: unknown, field: string): string {
  if (typeof v !== 'string' || !SCMP_ARCHES.includes(v))
    throw invalid(field, `${JSON.stringify(v)} is not an SCMP_ARCH_* architecture`);
  return v;
}

function kernelVersion(v: unknown, field: string): string {
  // moby KernelVersion.UnmarshalJSON: "<kernel>.<major>", each 0..255, not 0.0
  if (typeof v !== 'string') throw invalid(field, 'must be a string "<kernel>.<major>"');
  const m = /^(\d+)\.(\d+)$/.exec(v);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255 || (Number(m[1]) === 0 && Number(m[2]) === 0))
    throw invalid(field, `"${v}" is not "<kernel>.<major>"`);
  return v;
}

function filter(v: unknown, field: string, w: string[]): SeccompProfileFilter {
  if (!isObject(v)) throw invalid(field, 'must be an object');
  checkKeys(v, field, ['caps', 'arches', 'minKernel'], w);
  const f: SeccompProfileFilter = {};
  if (v.caps != null) f.caps = stringArray(v.caps, `${field}.caps`, true);
  if (v.arches != null) f.arches = stringArray(v.arches, `${field}.arches`, true);
  if (v.minKernel != null && v.minKernel !== '')
    f.minKernel = kernelVersion(v.minKernel, `${field}.minKernel`);
  return f;
}

function arg(v: unknown, field: string, w: string[]): LinuxSeccompArg {
  if (!isObject(v)) throw invalid(field, 'must be an object');
  checkKeys(v, field, ['index', 'value', 'valueTwo', 'op'], w);
  const index = v.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5)
    throw invalid(`${field}.index`, `${JSON.stringify(index)} is not an argument index 0..5`);
  if (typeof v.op !== 'string' || !OPERATORS.includes(v.op as LinuxSeccompOperator))
    throw invalid(`${field}.op`, `${JSON.stringify(v.op)} is not an operator (${OPERATORS.join(', ')})`);
  const a: LinuxSeccompArg = {
    index,
    value: u64(v.value ?? 0, `${field}.value`),
    op: v.op as LinuxSeccompOperator,
  };
  if (v.valueTwo != null) a.valueTwo = u64(v.valueTwo, `${field}.valueTwo`);
  return a;
}

function syscall(v: unknown, field: string, w: string[]): SeccompProfileSyscall {
  if (!isObject(v)) throw invalid(field, 'must be an object');
  checkKeys(v, field, ['names', 'name', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes'], w);
  const hasNames = Array.isArray(v.names) && v.names.length > 0;
  if (v.name != null && v.name !== '' && hasNames)
    throw invalid(field, "both 'name' and 'names' are specified, use either 'name' or 'names'");
  let names: string[];
  if (v.name != null && v.name !== '') {
    if (typeof v.name !== 'string') throw invalid(`${field}.name`, 'must be a string');
    names = [v.name];
  } else if (v.names != null) names = stringArray(v.names, `${field}.names`, true);
  else throw invalid(`${field}.names`, 'missing');
  const s: SeccompProfileSyscall = { names, action: action(v.action, `${field}.action`) };
  if (v.errnoRet != null) {
    s.errnoRet = errno(v.errnoRet, `${field}.errnoRet`);
    if (s.action !== 'SCMP_ACT_ERRNO' && s.action !== 'SCMP_ACT_TRACE')
      throw invalid(`${field}.errnoRet`, 'only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno');
  }
  if (v.args != null) {
    if (!Array.isArray(v.args)) throw invalid(`${field}.args`, 'must be an array');
    s.args = v.args.map((a, i) => arg(a, `${field}.args[${i}]`, w));
  }
  if (v.comment != null) {
    if (typeof v.comment !== 'string') throw invalid(`${field}.comment`, 'must be a string');
    s.comment = v.comment;
  }
  if (v.includes != null) s.includes = filter(v.includes, `${field}.includes`, w);
  if (v.excludes != null) s.excludes = filter(v.excludes, `${field}.excludes`, w);
  return s;
}

/** What {@link parseSeccompProfile} returns. */
export interface ParsedSeccompProfile {
  profile: SeccompProfile;
  /** Unknown fields, which docker ignores too (`syscalls[2].arg: unknown field ignored`). */
  warnings: string[];
}

/**
 * Parses and validates a docker seccomp profile: JSON text (as read from PROFILE.json) or an
 * already-decoded value. Types, actions, operators, arches and errnos are checked; both
 * `architectures` and `archMap`, or both `name` and `names`, are refused as docker does.
 *
 * @throws BerthError SECCOMP_PROFILE_INVALID naming the field (`syscalls[3].args[0].op`)
 */
export function parseSeccompProfile(input: string | unknown): ParsedSeccompProfile {
  const warnings: string[] = [];
  let v: unknown = input;
  if (typeof input === 'string') {
    try {
      v = JSON.parse(input);
    } catch (err) {
      throw new BerthError('SECCOMP_PROFILE_INVALID', `seccomp profile: ${(err as Error).message}`, {
        input: { field: '' },
        cause: err,
      });
    }
  }
  if (!isObject(v)) throw invalid('(root)', 'must be a JSON object');
  checkKeys(
    v,
    '',
    [
      'defaultAction',
      'defaultErrnoRet',
      'architectures',
      'archMap',
      'flags',
      'listenerPath',
      'listenerMetadata',
      'syscalls',
    ],
    warnings,
  );
  const p: SeccompProfile = { defaultAction: action(v.defaultAction, 'defaultAction'), syscalls: [] };
  if (v.defaultErrnoRet != null) p.defaultErrnoRet = errno(v.defaultErrnoRet, 'defaultErrnoRet');
  if (v.architectures != null)
    p.architectures = stringArray(v.architectures, 'architectures').map((a, i) =>
      scmpArch(a, `architectures[${i}]`),
    );
  if (v.archMap != null) {
    if (!Array.isArray(v.archMap)) throw invalid('archMap', 'must be an array');
    p.archMap = v.archMap.map((e, i) => {
      const f = `archMap[${i}]`;
      if (!isObject(e)) throw invalid(f, 'must be an object');
      checkKeys(e, f, ['architecture', 'subArchitectures'], warnings);
      return {
        architecture: scmpArch(e.architecture, `${f}.architecture`),
        subArchitectures:
          e.subArchitectures == null
            ? []
            : stringArray(e.subArchitectures, `${f}.subArchitectures`).map((a, j) =>
                scmpArch(a, `${f}.subArchitectures[${j}]`),
              ),
      };
    });
  }
  if (p.architectures?.length && p.archMap?.length)
    throw invalid('archMap', "both 'architectures' and 'archMap' are specified, use either one");
  if (v.flags != null) p.flags = stringArray(v.flags, 'flags');
  if (v.listenerPath != null) {
    if (typeof v.listenerPath !== 'string') throw invalid('listenerPath', 'must be a string');
    p.listenerPath = v.listenerPath;
  }
  if (v.listenerMetadata != null) {
    if (typeof v.listenerMetadata !== 'string') throw invalid('listenerMetadata', 'must be a string');
    p.listenerMetadata = v.listenerMetadata;
  }
  if (v.syscalls != null) {
    if (!Array.isArray(v.syscalls)) throw invalid('syscalls', 'must be an array');
    p.syscalls = v.syscalls.map((s, i) => syscall(s, `syscalls[${i}]`, warnings));
  }
  return { profile: p, warnings };
}

let defaultProfile: SeccompProfile | undefined;

/**
 * The bundled default profile in the form {@link parseSeccompProfile} gives, without running
 * the parser: the file ships with berth, and the parser's only change to it is `null`
 * subArchitectures becoming `[]` (profile.test.ts checks that both forms are equal, so a new
 * version of the file that needs more fails there). Validating it again at every container
 * start cost ~0.5-1.4 ms of a `berth run`. Shared: callers must not change it.
 * @internal
 */
export function sharedDefaultSeccompProfile(): SeccompProfile {
  if (!defaultProfile) {
    const json = defaultProfileJson as unknown as SeccompProfile & {
      archMap: { architecture: string; subArchitectures: string[] | null }[];
    };
    defaultProfile = {
      ...json,
      archMap: json.archMap.map((e) => ({
        architecture: e.architecture,
        subArchitectures: e.subArchitectures ?? [],
      })),
    };
  }
  return defaultProfile;
}

/**
 * Docker's default seccomp profile (moby/profiles seccomp/default.json), parsed. Each call
 * returns a fresh copy the caller may change.
 */
export function defaultSeccompProfile(): SeccompProfile {
  return structuredClone(sharedDefaultSeccompProfile());
}

/** `"6.1.0-18-amd64"` → [6, 1]; moby ignores minor revisions and suffixes. */
function kernelOf(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m)
    throw new BerthError('SECCOMP_PROFILE_INVALID', `seccomp: kernel release "${release}" has no version`, {
      input: { field: 'kernel' },
    });
  return [Number(m[1]), Number(m[2])];
}

function kernelAtLeast(kernel: [number, number], min: string): boolean {
  const [a, b] = min.split('.').map(Number) as [number, number];
  return kernel[0] > a || (kernel[0] === a && kernel[1] >= b);
}

/**
 * Resolves a docker profile for one container, exactly as docker's setupSeccomp does: the
 * archMap entry of the container's architecture becomes `architectures`; a rule with
 * `excludes` is dropped when the arch matches, any listed cap is in the bounding set, or the
 * kernel is at least `minKernel`; a rule with `includes` is kept only when the arch matches,
 * every listed cap is in the bounding set and the kernel is at least `minKernel`.
 * Returns `undefined` for a profile with no default action and no rules (docker: disabled).
 */
export function resolveSeccompProfile(
  profile: SeccompProfile,
  opts: ResolveSeccompOptions,
): LinuxSeccomp | undefined {
  if (!profile.defaultAction && profile.syscalls.length === 0) return undefined;
  const native = NATIVE[opts.arch ?? hostSeccompArch()];
  let kernel: [number, number] | undefined;
  const kernelNow = (): [number, number] => {
    kernel ??= kernelOf(opts.kernel ?? release());
    return kernel;
  };
  const caps = new Set(opts.capabilities);
  const out: LinuxSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const architectures = [...(profile.architectures ?? [])];
  const entry = profile.archMap?.find((a) => a.architecture === native.scmp);
  if (entry) architectures.push(entry.architecture, ...entry.subArchitectures);
  if (architectures.length) out.architectures = architectures;
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  const syscalls: LinuxSyscall[] = [];
  for (const s of profile.syscalls) {
    const ex = s.excludes;
    if (ex) {
      if (ex.arches?.includes(native.libseccomp)) continue;
      if (ex.caps?.some((c) => caps.has(c))) continue;
      if (ex.minKernel && kernelAtLeast(kernelNow(), ex.minKernel)) continue;
    }
    const inc = s.includes;
    if (inc) {
      if (inc.arches?.length && !inc.arches.includes(native.libseccomp)) continue;
      if (inc.caps?.some((c) => !caps.has(c))) continue;
      if (inc.minKernel && !kernelAtLeast(kernelNow(), inc.minKernel)) continue;
    }
    const r: LinuxSyscall = { names: [...s.names], action: s.action };
    if (s.errnoRet !== undefined) r.errnoRet = s.errnoRet;
    if (s.args?.length) r.args = s.args.map((a) => ({ ...a }));
    syscalls.push(r);
  }
  out.syscalls = syscalls;
  return out;
}

/**
 * Docker's default profile resolved for a container: {@link defaultSeccompProfile} through
 * {@link resolveSeccompProfile}.
 */
export function defaultSeccomp(opts: ResolveSeccompOptions): LinuxSeccomp {
  // the resolver copies what it keeps: the shared profile needs no copy of its own
  return resolveSeccompProfile(sharedDefaultSeccompProfile(), opts) as LinuxSeccomp;
}
