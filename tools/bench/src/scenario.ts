/**
 * An engine a scenario can measure. `berth` is always present; `docker` and `podman` take
 * part when installed on the machine.
 */
/**
 * The longest one engine command of a bench may take. Past it the command is killed and the
 * scenario ends with an error naming it: an engine that hangs (docker 20.10's `rm -f` of 50
 * containers once took 14 minutes here) must not hold the machine's bench lock for everyone.
 */
export const STEP_TIMEOUT_MS = 5 * 60_000;

export type EngineName = 'berth' | 'docker' | 'podman' | 'skopeo' | 'crun' | 'runc';

/** What a scenario receives: the commands for each engine and a scratch directory. */
export interface BenchContext {
  /** The berth CLI as argv: `apps/cli/dist/berth` (the launcher users run). */
  berth: string[];
  /** Docker's client as argv, when docker takes part. */
  docker?: string[];
  /** Podman as argv, when podman takes part. */
  podman?: string[];
  /** skopeo as argv, when skopeo takes part (registry scenarios). */
  skopeo?: string[];
  /** crun and runc as argv, when they take part (runtime scenarios). */
  crun?: string[];
  runc?: string[];
  /** A temporary directory removed after the scenario. */
  scratch: string;
}

/**
 * One timed step for one engine: spawn this argv (or call this function) and time it. A `run`
 * that returns a number gives the sample itself, in the scenario's `unit` (memory scenarios).
 */
export type Step = { argv: string[]; env?: Record<string, string> } | { run: () => Promise<unknown> };

/**
 * A named benchmark. For every engine that takes part, `setup` prepares once, then the
 * harness alternates engines, timing `step` `runs` times each, and calls `teardown` last.
 */
export interface Scenario {
  name: string;
  description: string;
  /** Which engines this scenario compares (berth first). */
  engines: EngineName[];
  setup?(ctx: BenchContext, engine: EngineName): Promise<void>;
  step(ctx: BenchContext, engine: EngineName): Step;
  teardown?(ctx: BenchContext, engine: EngineName): Promise<void>;
  /** What a sample is: wall time (default) or a size in KiB returned by the step. */
  unit?: 'ms' | 'KiB';
  /** A target stated by the issue, printed beside the result, e.g. "berth/docker <= 0.25". */
  target?: string;
}
