/**
 * Reading and writing cgroup control files. Every write is one write(2) on a file opened
 * O_WRONLY|O_TRUNC without O_CREAT (what a shell's `echo v > file` does, minus the create): the
 * kernel parses each write on its own, a fixture file ends up holding exactly the value, and a
 * missing file stays an ENOENT instead of being created.
 *
 * The calls are synchronous behind async signatures: a control file is a kernel attribute, read
 * or written in microseconds without touching a disk, and a container's start writes about 50 of
 * them; each through the thread pool (open, write, close) cost three round trips, ~10 ms of a
 * `berth run` on a loaded machine. The signatures stay async so a driver may change that back.
 */
import { accessSync, closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { BerthError } from '@berth/oci';
import { childPath } from '../child-path.js';

/**
 * The directory of cgroup `path` (already checked by validateCgroupPath: absolute, normalised,
 * no `.` or `..`) under the hierarchy mounted at `root`: concatenation, as {@link childPath}.
 */
export function cgroupDir(root: string, path: string): string {
  return root.endsWith('/') ? `${root.slice(0, -1)}${path}` : `${root}${path}`;
}

/** Writes `value` into `dir/file`; the error names the file, the value and the errno. */
export async function writeControl(dir: string, file: string, value: string): Promise<void> {
  const path = childPath(dir, file);
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new BerthError('CGROUP_WRITE_FAILED', `cgroup file ${path}: write "${value}": ${code}`, {
      input: { field: file },
      cause: err,
    });
  }
}

/**
 * Writes several values in order, each as its own write(2) (the kernel parses one rule per
 * write), opening each file once: v1 devices.allow takes ~20 rules per container, and an open,
 * a write and a close per rule were three calls into node each. On a plain file (a fixture
 * tree) the file ends up holding every value written, each followed by a newline.
 */
export async function writeControlLines(dir: string, lines: { file: string; line: string }[]): Promise<void> {
  const fds = new Map<string, number>();
  try {
    for (const { file, line } of lines) {
      const path = childPath(dir, file);
      try {
        let fd = fds.get(file);
        if (fd === undefined) {
          fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
          fds.set(file, fd);
        }
        writeSync(fd, `${line}\n`);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new BerthError('CGROUP_WRITE_FAILED', `cgroup file ${path}: write "${line}": ${code}`, {
          input: { field: file },
          cause: err,
        });
      }
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}

/** Reads `dir/file` as text. */
export async function readControl(dir: string, file: string): Promise<string> {
  const path = childPath(dir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new BerthError(
      code === 'ENOENT' ? 'CGROUP_NOT_FOUND' : 'CGROUP_READ_FAILED',
      `cgroup file ${path}: read: ${code}`,
      { input: { field: file }, cause: err },
    );
  }
}

/** Reads `dir/file`, or undefined when the kernel does not offer it. */
export async function readOptional(dir: string, file: string): Promise<string | undefined> {
  try {
    return readFileSync(childPath(dir, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BerthError(
      'CGROUP_READ_FAILED',
      `cgroup file ${childPath(dir, file)}: read: ${(err as NodeJS.ErrnoException).code}`,
      {
        input: { field: file },
        cause: err,
      },
    );
  }
}

/** Whether `dir/file` exists (a control file this kernel offers). */
export async function hasControl(dir: string, file: string): Promise<boolean> {
  try {
    accessSync(childPath(dir, file));
    return true;
  } catch {
    return false;
  }
}

/** Values at or above this are the kernel's "unlimited" (v1 writes LLONG_MAX rounded to a page). */
const UNLIMITED = 2n ** 62n;

/**
 * Parses one unsigned counter; `max`, `-1` and the kernel's page-rounded LLONG_MAX give undefined
 * (unlimited). Values are returned as numbers; beyond 2^53 they lose precision, which byte
 * and nanosecond counters of one container do not reach.
 */
export function parseCounter(text: string, what: string): number | undefined {
  const t = text.trim();
  if (t === 'max' || t === '-1') return undefined;
  if (!/^\d+$/.test(t))
    throw new BerthError('CGROUP_READ_FAILED', `cgroup file ${what}: "${t.slice(0, 40)}" is not a number`, {
      input: { field: what },
    });
  const n = BigInt(t);
  return n >= UNLIMITED ? undefined : Number(n);
}

/** Like {@link parseCounter} for a counter that is never unlimited. */
export function parseCount(text: string, what: string): number {
  const n = parseCounter(text, what);
  if (n === undefined)
    throw new BerthError('CGROUP_READ_FAILED', `cgroup file ${what}: unexpected "${text.trim()}"`, {
      input: { field: what },
    });
  return n;
}

/** Parses `key value` lines (memory.stat, cpu.stat, memory.oom_control, memory.events). */
export function parseFlatKeyed(text: string, what: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [k, v, extra] = line.trim().split(/\s+/);
    if (k === undefined || v === undefined || extra !== undefined || !/^\d+$/.test(v))
      throw new BerthError('CGROUP_READ_FAILED', `cgroup file ${what}: bad line "${line.slice(0, 60)}"`, {
        input: { field: what },
      });
    out[k] = Number(v);
  }
  return out;
}

/** Parses a list of pids (cgroup.procs, tasks). */
export function parsePids(text: string, what: string): number[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => parseCount(l, what));
}
