/**
 * Test helper: the built `berth` bundle for tests that run the CLI as separate processes, fast to
 * start (no tsx), with the `berth` launcher beside it. `dist/berth.js` when it is newer than
 * every source it is made of, else a private build beside it (`.dist-t<pid>`, so its relative lookups of the shim and the native
 * addons still resolve), removed by `dispose`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliDir = fileURLToPath(new URL('../..', import.meta.url));
const repo = join(cliDir, '../..');

/** The newest modification under the sources the bundle is made of. */
async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, await newestSource(p));
    else if ((e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) || e.name.endsWith('.sh'))
      newest = Math.max(newest, (await stat(p)).mtimeMs);
  }
  return newest;
}

/** A fresh CLI bundle: `bin` to run with node, `dispose` to remove a private build. */
export async function cliBundle(): Promise<{ bin: string; dispose(): Promise<void> }> {
  const dist = join(cliDir, 'dist/berth.js');
  // dist/berth is the launcher (src/berth.sh) beside it
  const built = existsSync(dist) && existsSync(join(cliDir, 'dist/berth')) ? (await stat(dist)).mtimeMs : 0;
  const sources = Math.max(
    await newestSource(join(cliDir, 'src')),
    await newestSource(join(repo, 'packages')),
  );
  if (built >= sources) return { bin: dist, dispose: async () => {} };
  const out = join(cliDir, `.dist-t${process.pid}`);
  execFileSync('pnpm', ['exec', 'tsup', '--config', 'tsup.config.ts', '--out-dir', out], {
    cwd: cliDir,
    stdio: 'pipe',
  });
  return { bin: join(out, 'berth.js'), dispose: () => rm(out, { recursive: true, force: true }) };
}
