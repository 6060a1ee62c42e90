/**
 * The messages berth-shim exchanges with TypeScript, mirrored from native/launch.h: the sync
 * messages on the inherited sync fd, the control socket's replies, and the exit file. All are
 * one line each, fields separated by spaces and encoded as in the launch description.
 */
import { BerthError } from '@berth/oci';
import { decodeField } from './launch-spec.js';

/** Error codes thrown while reading shim messages. */
export const ShimProtocolErrorCode = { SHIM_PROTOCOL: 'SHIM_PROTOCOL' } as const;
/** Union of {@link ShimProtocolErrorCode} values. */
export type ShimProtocolErrorCode = (typeof ShimProtocolErrorCode)[keyof typeof ShimProtocolErrorCode];

/** berth-shim's documented exit codes (launch.h), docker's: 125 berth, 126 cannot exec, 127 not found. */
export const SHIM_EXIT = Object.freeze({ FAILURE: 125, CANNOT_EXEC: 126, NOT_FOUND: 127 });

/** The step of the launch that failed, as the shim names it. */
export type LaunchStep =
  | 'parse'
  | 'daemonize'
  | 'signals'
  | 'stdio'
  | 'control'
  | 'sync'
  | 'clone'
  | 'namespace'
  | 'hostname'
  | 'network'
  | 'mount'
  | 'device'
  | 'pivot_root'
  | 'sysctl'
  | 'masked_path'
  | 'readonly_path'
  | 'oom_score_adj'
  | 'rlimit'
  | 'seccomp'
  | 'capabilities'
  | 'user'
  | 'no_new_privs'
  | 'cwd'
  | 'exec'
  | 'start'
  | 'kill'
  | 'exit';

/** A failed launch or request, as the shim reports it. */
export interface ShimFailure {
  step: LaunchStep | (string & {});
  errno: number;
  /** 125, 126 or 127. */
  exitCode: number;
  message: string;
}

/** The closed set of sync messages (launch.h SYNC). */
export type SyncMessage =
  | { type: 'created'; pid: number; shimPid: number }
  | { type: 'continue' }
  | { type: 'abort' }
  | { type: 'ready' }
  | { type: 'started'; pid: number }
  | ({ type: 'error' } & ShimFailure)
  | { type: 'exited'; exitCode: number; signal: number };

/** A reply on the control socket (launch.h CONTROL). */
export type ControlReply =
  | { type: 'started'; pid: number }
  | { type: 'ok' }
  | ({ type: 'error' } & ShimFailure)
  | { type: 'exited'; exitCode: number; signal: number };

function bad(line: string): BerthError<'SHIM_PROTOCOL'> {
  return new BerthError('SHIM_PROTOCOL', `berth-shim message "${line.slice(0, 80)}": not understood`, {
    input: { field: 'sync' },
  });
}

function int(s: string | undefined, line: string): number {
  if (s === undefined || !/^-?\d+$/.test(s)) throw bad(line);
  return Number(s);
}

/**
 * Parses one sync or control line (without its newline).
 *
 * @throws BerthError SHIM_PROTOCOL for anything outside the closed set
 */
export function parseShimMessage(line: string): SyncMessage | ControlReply {
  const f = line.split(' ');
  switch (f[0]) {
    case 'created':
      if (f.length !== 3) throw bad(line);
      return { type: 'created', pid: int(f[1], line), shimPid: int(f[2], line) };
    case 'continue':
    case 'abort':
    case 'ready':
    case 'ok':
      if (f.length !== 1) throw bad(line);
      return { type: f[0] };
    case 'started':
      if (f.length !== 2) throw bad(line);
      return { type: 'started', pid: int(f[1], line) };
    case 'exited':
      if (f.length !== 3) throw bad(line);
      return { type: 'exited', exitCode: int(f[1], line), signal: int(f[2], line) };
    case 'error':
      if (f.length !== 5) throw bad(line);
      return {
        type: 'error',
        step: f[1]!,
        errno: int(f[2], line),
        exitCode: int(f[3], line),
        message: decodeField(f[4]!),
      };
    default:
      throw bad(line);
  }
}

/** How a container ended, from the shim's exit file. */
export interface ExitRecord {
  /** The exit code, or 128 + signal. */
  exitCode: number;
  /** The signal that killed it, 0 if none. */
  signal: number;
  /** RFC 3339 nano UTC. */
  exitedAt: string;
  /** Set when the launch itself failed. */
  error?: { step: string; errno: number; message: string };
}

/**
 * Parses the shim's exit file (`berth.exit.v1`).
 *
 * @throws BerthError SHIM_PROTOCOL naming the file
 */
export function parseExitRecord(text: string, file = 'exit'): ExitRecord {
  const lines = text.split('\n');
  const fail = (why: string) =>
    new BerthError('SHIM_PROTOCOL', `exit file ${file}: ${why}`, { input: { file, line: 1 } });
  if (lines[0] !== 'berth.exit.v1') throw fail('not berth.exit.v1');
  const kv = new Map<string, string>();
  for (const l of lines.slice(1)) {
    if (l === '') continue;
    const eq = l.indexOf('=');
    if (eq <= 0) throw fail(`bad line "${l.slice(0, 40)}"`);
    kv.set(l.slice(0, eq), l.slice(eq + 1));
  }
  const num = (k: string) => {
    const v = kv.get(k);
    if (v === undefined || !/^-?\d+$/.test(v)) throw fail(`${k} missing or not a number`);
    return Number(v);
  };
  const rec: ExitRecord = {
    exitCode: num('exit_code'),
    signal: num('signal'),
    exitedAt: kv.get('exited_at') ?? '',
  };
  if (kv.has('error'))
    rec.error = { step: kv.get('step') ?? '', errno: num('errno'), message: decodeField(kv.get('error')!) };
  return rec;
}
