/**
 * Restart policies with no daemon: the decision docker's restart manager makes
 * (moby `restartmanager`), as a pure function of what the container record holds. Who acts on
 * it: berth-shim runs the engine's exit hook (`berth container cleanup ID`) once it has recorded
 * the exit, and that process restarts the container after the backoff ({@link restartDecision});
 * `berth system boot` starts the ones a reboot stopped ({@link startsAtBoot}).
 */
import type { ContainerRecord, RestartPolicy } from './types.js';

/** docker's first delay (100 ms), doubled after each restart. */
export const RESTART_DELAY_MIN_MS = 100;
/** docker's ceiling for the delay (1 minute). */
export const RESTART_DELAY_MAX_MS = 60_000;
/** A run this long resets the delay (docker: 10 s). */
export const RESTART_RESET_AFTER_MS = 10_000;

/** What the exit hook knows about the run that ended. */
export interface ExitFacts {
  exitCode: number;
  /** `stop` or `kill` by a user (docker's HasBeenManuallyStopped, which cancels the policy). */
  manuallyStopped: boolean;
  /** Restarts made by the policy so far (docker's RestartCount). */
  restartCount: number;
  /** How long the run lasted, ms. */
  ranMs: number;
  /** The delay used before the previous restart, ms (0: none yet). */
  previousDelayMs: number;
}

/** Whether to restart, and after how long. */
export interface RestartDecision {
  restart: boolean;
  /** The delay to wait, and to remember for the next decision. */
  delayMs: number;
}

/**
 * moby restartmanager.ShouldRestart: the delay starts at 100 ms and doubles up to a minute, and
 * goes back to 100 ms after a run of 10 s or more; `always` and `unless-stopped` restart unless
 * a user stopped the container; `on-failure[:N]` restarts on a non-zero exit while fewer than N
 * restarts were made (N = 0: no limit).
 */
export function restartDecision(policy: RestartPolicy, f: ExitFacts): RestartDecision {
  let delay = f.ranMs >= RESTART_RESET_AFTER_MS ? 0 : f.previousDelayMs;
  delay = delay === 0 ? RESTART_DELAY_MIN_MS : Math.min(delay * 2, RESTART_DELAY_MAX_MS);
  if (f.manuallyStopped) return { restart: false, delayMs: delay };
  let restart = false;
  if (policy.Name === 'always' || policy.Name === 'unless-stopped') restart = true;
  else if (policy.Name === 'on-failure') {
    const max = policy.MaximumRetryCount;
    restart = f.exitCode !== 0 && (max === 0 || f.restartCount < max);
  }
  return { restart, delayMs: delay };
}

/**
 * Whether `berth system boot` starts a container that is not running: docker's daemon start
 * (`always` even when stopped by a user, `unless-stopped` unless stopped by a user), and
 * `on-failure` for one the shutdown stopped (it was running or restarting when it went).
 */
export function startsAtBoot(rec: ContainerRecord, wasRunning: boolean): boolean {
  const p = rec.HostConfig.RestartPolicy;
  if (p.Name === 'always') return true;
  if (p.Name === 'unless-stopped') return !rec.ManuallyStopped;
  if (p.Name === 'on-failure') return wasRunning && !rec.ManuallyStopped;
  return false;
}
