/**
 * Crash safety of a whole pull (issue 4, DESIGN.md "State on disk"): `berth pull` processes
 * (the built bundle, testing/cli-harness.ts) over one state root are killed with SIGKILL at
 * random points: after a random number of progress lines (resolving, downloading, extracting,
 * committing, tagging) plus a random delay. After every kill the next commands read the store without error, and
 * at the end a pull completes, the image lists and inspects, and no extraction snapshot of a
 * killed pull is left.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildFixtures, pushFixture, type RegistryHandle, startRegistry } from '@berth/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliHarness, type Result, runInProcess } from '../testing/cli-harness.js';

const KILLS = 6;
const cli = cliHarness('bpull');
let registry: RegistryHandle;
let reference = '';

beforeAll(async () => {
  await cli.setup();
  const fixtures = await buildFixtures();
  registry = await startRegistry();
  reference = (await pushFixture(registry, fixtures.images.layers, 'crash/layers:1')).reference;
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await cli.dispose();
});

/**
 * Runs `berth ARGS` in a child; with `killAtMs`, SIGKILLs it that long after it printed its first
 * line. Resolves with the outcome and when the first line and the end came (ms from spawn).
 */
function run(args: string[], killAtMs?: number): Promise<Result & { firstMs: number; endMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = cli.start(args);
    let stdout = '';
    let stderr = '';
    let firstMs = -1;
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (firstMs >= 0) return;
      firstMs = performance.now() - t0;
      if (killAtMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAtMs);
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, firstMs, endMs: performance.now() - t0 }),
    );
  });
}

/** The other commands run in this process (no child to start between the kills). */
async function ok(...argv: string[]): Promise<string> {
  const r = await runInProcess({ BERTH_ROOT: cli.root, NO_COLOR: '1' }, ...argv);
  if (r.code !== 0) throw new Error(`berth ${argv.join(' ')}: exit ${r.code}: ${r.err}`);
  return r.out;
}

describe('berth pull killed with SIGKILL at random points', () => {
  it(`leaves a store the next commands read, ${KILLS} times, and a re-pull completes`, async () => {
    // one whole pull in a child tells how long one takes after its first line
    const whole = await run(['pull', reference]);
    expect(whole.code, whole.stderr).toBe(0);
    let span = whole.endMs - whole.firstMs;
    await ok('rmi', reference);
    let killed = 0;
    for (let i = 0; i < 4 * KILLS && killed < KILLS; i++) {
      const r = await run(['pull', reference], Math.random() * span);
      if (r.signal === 'SIGKILL') killed++;
      else {
        expect(r.code, r.stderr).toBe(0);
        // it ended before its kill (later pulls can be quicker than the first): aim within it
        if (r.firstMs >= 0) span = Math.min(span, r.endMs - r.firstMs);
      }
      // the store reads without error after the kill
      const images = await ok('images', '--format', '{{.Repository}}:{{.Tag}}');
      // a pull that finished before its kill is undone, so the next one has work to do
      if (images.includes(reference)) await ok('rmi', reference);
    }
    expect(killed).toBeGreaterThanOrEqual(KILLS / 2);

    const out = await ok('pull', reference);
    expect(out).toContain(`Status: Downloaded newer image for ${reference}`);
    expect(await ok('images', '--format', '{{.Repository}}:{{.Tag}}')).toContain(reference);
    const [inspect] = JSON.parse(await ok('image', 'inspect', reference)) as {
      RootFS: { Layers: string[] };
    }[];
    expect(inspect?.RootFS.Layers.length).toBeGreaterThan(1);
    // every extraction snapshot of the killed pulls is gone: only committed snapshots remain
    const meta = JSON.parse(await readFile(join(cli.root, 'snapshots', 'metadata.json'), 'utf8')) as {
      snapshots: [string, { kind: string }][];
    };
    const kinds = meta.snapshots.map(([, s]) => s.kind);
    expect(kinds.filter((k) => k !== 'committed')).toEqual([]);
    // active snapshots have their own record files
    const records = await readdir(join(cli.root, 'snapshots', 'records')).catch(() => []);
    expect(records.filter((n) => n.endsWith('.json'))).toEqual([]);
  }, 180_000);
});
