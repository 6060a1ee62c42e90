/**
 * Who holds an ingest: a small record of the holder's pid, its process start time (so a reused
 * pid is not mistaken for the holder) and the store instance inside that process.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** The identity written into an ingest's `owner` file. */
export interface Owner {
  /** Holder's pid. */
  pid: number;
  /** Holder's start time in clock ticks since boot (/proc/<pid>/stat field 22), or -1. */
  start: number;
  /** The store instance inside the holder process. */
  instance: string;
}

/** Start time of a process from /proc (proc(5), field 22), or -1 when it does not exist. */
export async function processStart(pid: number): Promise<number> {
  try {
    return parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return -1;
  }
}

function parseStat(stat: string): number {
  // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(rest[19]);
  return Number.isSafeInteger(start) ? start : -1;
}

let selfStart: number | undefined;

/** This process's start time (cached). */
export function selfProcessStart(): number {
  if (selfStart === undefined) {
    try {
      selfStart = parseStat(readFileSync('/proc/self/stat', 'utf8'));
    } catch {
      selfStart = -1;
    }
  }
  return selfStart;
}

/** Parses an owner file; undefined when it is not a complete owner record. */
export function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (typeof o.pid !== 'number' || typeof o.start !== 'number' || typeof o.instance !== 'string')
      return undefined;
    return { pid: o.pid, start: o.start, instance: o.instance };
  } catch {
    return undefined;
  }
}

/**
 * Tells whether `owner` still holds its ingest. In this process only the given live instance
 * counts, and only while its writer is open: a second store instance over the same root treats the first one's ingests as
 * abandoned, as a new process would after a crash. Another process counts while its pid is
 * alive with the same start time.
 */
export async function ownerAlive(
  owner: Owner,
  self: { instance: string; activeHere: boolean },
): Promise<boolean> {
  if (owner.pid === process.pid) return owner.instance === self.instance && self.activeHere;
  const start = await processStart(owner.pid);
  if (start === -1) return false;
  return owner.start === -1 || start === owner.start;
}
