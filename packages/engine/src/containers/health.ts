/**
 * Health checks with no daemon. The configuration is docker's (`Config.Healthcheck`: the
 * image's HEALTHCHECK with `--health-*` overriding it field by field); berth-shim runs the
 * engine's health hook (`berth container healthcheck ID`) every interval while the container
 * runs, and that process runs one probe as an exec, folds its result into the state
 * (`containers/<id>/health.json`, written atomically) and appends a `health_status` event when
 * the status changes. Podman runs `podman healthcheck run` from a systemd timer the same way.
 */
import { unlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HealthConfig } from '@berth/oci';
import { invalidOption } from './errors.js';
import { writeFileAtomic } from './record.js';
import type { HealthLogEntry, HealthOptions, HealthState } from './types.js';

/** docker's defaults (moby container/health.go). */
export const HEALTH_DEFAULTS = {
  intervalNs: 30_000_000_000,
  timeoutNs: 30_000_000_000,
  retries: 3,
} as const;

/** Output kept per probe (docker's maxOutputLen). */
export const HEALTH_OUTPUT_MAX = 4096;
/** Probes kept in the log (docker's maxLogEntries). */
export const HEALTH_LOG_MAX = 5;

/**
 * The container's health check: the image's, with the flags given overriding it field by field
 * (docker's merge in daemon/create), or `Test: ["NONE"]` with `--no-healthcheck`.
 * @throws BerthError INVALID_OPTION (a negative duration, --no-healthcheck with --health-*)
 */
export function mergeHealthcheck(
  image: HealthConfig | undefined,
  o: HealthOptions = {},
): HealthConfig | undefined {
  const given = o.cmd !== undefined || o.interval !== undefined || o.timeout !== undefined;
  const more = o.startPeriod !== undefined || o.retries !== undefined;
  if (o.none) {
    if (given || more)
      throw invalidOption('no-healthcheck', '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  for (const [k, v] of [
    ['health-interval', o.interval],
    ['health-timeout', o.timeout],
    ['health-start-period', o.startPeriod],
  ] as const)
    if (v !== undefined && v < 0) throw invalidOption(k, `--${k} cannot be negative`);
  if (o.retries !== undefined && (o.retries < 0 || !Number.isInteger(o.retries)))
    throw invalidOption('health-retries', '--health-retries cannot be negative');
  if (!given && !more) return image && Object.keys(image).length ? { ...image } : undefined;
  const out: HealthConfig = { ...(image ?? {}) };
  if (o.cmd !== undefined) out.Test = o.cmd === '' ? [] : ['CMD-SHELL', o.cmd];
  if (o.interval !== undefined) out.Interval = o.interval;
  if (o.timeout !== undefined) out.Timeout = o.timeout;
  if (o.startPeriod !== undefined) out.StartPeriod = o.startPeriod;
  if (o.retries !== undefined) out.Retries = o.retries;
  return out;
}

/** The probe's argv, or undefined when there is no check (`NONE`, no test). */
export function probeArgs(h: HealthConfig | undefined): string[] | undefined {
  const t = h?.Test;
  if (!t || t.length === 0 || t[0] === 'NONE') return undefined;
  if (t[0] === 'CMD') return t.length > 1 ? t.slice(1) : undefined;
  if (t[0] === 'CMD-SHELL') return t.length > 1 ? ['/bin/sh', '-c', t.slice(1).join(' ')] : undefined;
  return undefined;
}

/** The check's timings with docker's defaults, in milliseconds. */
export function healthTimings(h: HealthConfig): {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
} {
  return {
    intervalMs: (h.Interval || HEALTH_DEFAULTS.intervalNs) / 1e6,
    timeoutMs: (h.Timeout || HEALTH_DEFAULTS.timeoutNs) / 1e6,
    startPeriodMs: (h.StartPeriod ?? 0) / 1e6,
    retries: h.Retries || HEALTH_DEFAULTS.retries,
  };
}

/** The state before the first probe. */
export function initialHealth(): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: [] };
}

/**
 * docker's handleProbeResult: a pass makes the container healthy and clears the streak; a
 * failure in the start period is logged but not counted; otherwise the streak grows and, at
 * `retries`, the container is unhealthy. The log keeps the last five probes.
 */
export function applyProbe(
  prev: HealthState,
  probe: HealthLogEntry,
  o: { retries: number; inStartPeriod: boolean },
): HealthState {
  const Log = [...prev.Log, { ...probe, Output: probe.Output.slice(0, HEALTH_OUTPUT_MAX) }].slice(
    -HEALTH_LOG_MAX,
  );
  if (probe.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log };
  if (o.inStartPeriod && prev.Status !== 'healthy') return { ...prev, Log };
  const FailingStreak = prev.FailingStreak + 1;
  return { Status: FailingStreak >= o.retries ? 'unhealthy' : prev.Status, FailingStreak, Log };
}

const HEALTH_FILE = 'health.json';

/** The stored state of a container directory, or undefined. */
export async function readHealth(dir: string): Promise<HealthState | undefined> {
  try {
    const h = JSON.parse(await readFile(join(dir, HEALTH_FILE), 'utf8')) as HealthState & {
      version?: number;
    };
    if (h.version !== 1) return undefined;
    return { Status: h.Status, FailingStreak: h.FailingStreak, Log: h.Log };
  } catch {
    return undefined;
  }
}

/** Stores the state (write-temp, fsync, rename). */
export async function writeHealth(dir: string, h: HealthState): Promise<void> {
  await writeFileAtomic(join(dir, HEALTH_FILE), `${JSON.stringify({ version: 1, ...h })}\n`, 0o600);
}

/** Forgets the state (a new run starts over at `starting`). */
export async function clearHealth(dir: string): Promise<void> {
  try {
    unlinkSync(join(dir, HEALTH_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
