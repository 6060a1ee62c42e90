import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ensureDockerd } from '@berth/fixtures';
import { type BenchContext, type EngineName, type Scenario, STEP_TIMEOUT_MS, type Step } from './scenario.js';
import { ratio, type Summary, summarize } from './stats.js';

/** Options for {@link runScenario}. */
export interface RunOptions {
  /** Timed runs per engine (default 10). */
  runs?: number;
  /** Untimed runs per engine before timing (default 1). */
  warmup?: number;
  /** Only these engines (default: every engine the scenario names that is installed). */
  engines?: EngineName[];
  /** Progress lines go here (default: none). */
  log?: (line: string) => void;
}

/** The measured result of one scenario. */
export interface ScenarioResult {
  scenario: string;
  target?: string;
  /** The samples' unit when not milliseconds. */
  unit?: 'ms' | 'KiB';
  engines: Partial<Record<EngineName, Summary>>;
  /** Engines the scenario names that did not take part, with the reason. */
  absent: Partial<Record<EngineName, string>>;
}

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

function which(name: string, preferred: string[] = []): string | undefined {
  for (const p of [...preferred, ...(process.env.PATH ?? '').split(':').map((d) => join(d, name))]) {
    if (p && existsSync(p)) return p;
  }
  return undefined;
}

function timeArgv(argv: string[], env?: Record<string, string>): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const start = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: env ? { ...process.env, ...env } : process.env,
      timeout: STEP_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = performance.now() - start;
      if (code === 0) resolvePromise(ms);
      else if (ms >= STEP_TIMEOUT_MS)
        reject(new Error(`${argv.join(' ')}: killed after ${STEP_TIMEOUT_MS / 1000} s: ${stderr.trim()}`));
      else reject(new Error(`${argv.join(' ')}: exit ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

async function timeStep(step: Step): Promise<number> {
  if ('argv' in step) return timeArgv(step.argv, step.env);
  const start = performance.now();
  const sample = await step.run();
  return typeof sample === 'number' ? sample : performance.now() - start;
}

/**
 * Runs one scenario: prepares each engine that takes part (starting dockerd when docker.io is
 * installed and no daemon answers, and stopping it afterwards), then alternates engines run by
 * run so a drifting machine affects all of them alike.
 */
export async function runScenario(scenario: Scenario, opts: RunOptions = {}): Promise<ScenarioResult> {
  const runs = opts.runs ?? 10;
  const warmup = opts.warmup ?? 1;
  const log = opts.log ?? (() => {});
  const scratch = await mkdtemp(join(tmpdir(), `berth-bench-${scenario.name}-`));
  // the bin users run: the sh launcher that starts node on dist/berth.js
  const berthBin = join(repoRoot, 'apps/cli/dist/berth');
  if (!existsSync(berthBin)) throw new Error(`berth is not built: ${berthBin} is missing (run pnpm build)`);
  const ctx: BenchContext = { berth: [berthBin], scratch };
  const absent: ScenarioResult['absent'] = {};
  const wanted = scenario.engines.filter((e) => !opts.engines || opts.engines.includes(e));
  const engines: EngineName[] = [];
  let stopDocker: (() => Promise<void>) | undefined;
  try {
    for (const engine of wanted) {
      if (engine === 'berth') engines.push(engine);
      if (engine === 'docker') {
        // Debian's client matches Debian's dockerd; fall back to any docker on PATH.
        const docker = which('docker', ['/usr/bin/docker']);
        if (!docker || !which('dockerd')) {
          absent.docker = 'docker.io is not installed';
          continue;
        }
        const daemon = await ensureDockerd();
        if (daemon.started) stopDocker = () => daemon.stop();
        ctx.docker = [docker];
        engines.push(engine);
      }
      if (engine === 'podman') {
        const podman = which('podman');
        if (!podman) {
          absent.podman = 'podman is not installed';
          continue;
        }
        ctx.podman = [podman];
        engines.push(engine);
      }
      if (engine === 'crun' || engine === 'runc') {
        const bin = which(engine);
        if (!bin) {
          absent[engine] = `${engine} is not installed`;
          continue;
        }
        ctx[engine] = [bin];
        engines.push(engine);
      }
      if (engine === 'skopeo') {
        const skopeo = which('skopeo');
        if (!skopeo) {
          absent.skopeo = 'skopeo is not installed';
          continue;
        }
        ctx.skopeo = [skopeo];
        engines.push(engine);
      }
    }
    for (const engine of engines) await scenario.setup?.(ctx, engine);
    const samples = new Map<EngineName, number[]>(engines.map((e) => [e, []]));
    for (let i = 0; i < warmup + runs; i++) {
      for (const engine of engines) {
        const ms = await timeStep(scenario.step(ctx, engine));
        if (i >= warmup) samples.get(engine)!.push(ms);
      }
      log(`${scenario.name}: round ${i + 1}/${warmup + runs}${i < warmup ? ' (warm-up)' : ''}`);
    }
    const result: ScenarioResult = { scenario: scenario.name, engines: {}, absent };
    if (scenario.target) result.target = scenario.target;
    if (scenario.unit) result.unit = scenario.unit;
    for (const [engine, list] of samples) result.engines[engine] = summarize(list);
    return result;
  } finally {
    for (const engine of engines) await scenario.teardown?.(ctx, engine).catch(() => {});
    await stopDocker?.();
    await rm(scratch, { recursive: true, force: true });
  }
}

const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const fmtKiB = (k: number) => (k >= 1024 ? `${(k / 1024).toFixed(2)} MiB` : `${k.toFixed(0)} KiB`);

/** The result as the table the harness prints: min and median per engine, then ratios. */
export function formatResult(r: ScenarioResult): string {
  const fmt = r.unit === 'KiB' ? fmtKiB : fmtMs;
  const lines = [`scenario ${r.scenario}`];
  const rows: string[][] = [['ENGINE', 'RUNS', 'MIN', 'MEDIAN', 'MAX']];
  for (const [engine, s] of Object.entries(r.engines)) {
    rows.push([engine, String(s.runs), fmt(s.min), fmt(s.median), fmt(s.max)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows)
    lines.push(
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('   ')
        .trimEnd(),
    );
  const berth = r.engines.berth;
  for (const other of ['docker', 'podman', 'skopeo', 'crun', 'runc'] as const) {
    const s = r.engines[other];
    if (berth && s) lines.push(`berth/${other} median ratio: ${ratio(berth, s).toFixed(2)}`);
    else if (r.absent[other]) lines.push(`berth/${other}: not measured (${r.absent[other]})`);
  }
  if (r.target) lines.push(`target: ${r.target}`);
  return lines.join('\n');
}
