// The demo CLI's bin (src/cli.sh, built to dist/berth-registry-demo): a sh launcher that keeps
// NODE_EXTRA_CA_CERTS away from node's start and hands it to the client for TLS. Run as npm
// links a bin (through a symlink) against a TLS registry with basic auth whose CA is made at test
// time and named only by NODE_EXTRA_CA_CERTS; credentials come from a credential helper.
import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures, pushFixture, type RegistryHandle, startRegistry } from '@berth/fixtures';
import { toLayout } from '@berth/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryDir } from './package-dir.js';

const dist = join(registryDir, 'dist');
let registry: RegistryHandle;
let work = '';
let bin = '';
let reference = '';
let digest = '';
let helperDir = '';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-demo-cli-`));
  registry = await startRegistry({ auth: 'tls-basic' });
  ({ reference, digest } = await pushFixture(
    registry,
    (await buildFixtures()).images.busybox,
    'demo/busybox:1',
  ));
  await mkdir(join(work, 'bin'));
  bin = join(work, 'bin/berth-registry-demo');
  await symlink(join(dist, 'berth-registry-demo'), bin);
  // A credential helper that answers with the registry's user and records the CA variables it got.
  helperDir = join(work, 'helper');
  await mkdir(join(helperDir, 'docker'), { recursive: true });
  await writeFile(
    join(helperDir, 'docker-credential-envdump'),
    `#!/bin/sh\ncat >/dev/null\nprintf '%s|%s' "$NODE_EXTRA_CA_CERTS" "$BERTH_EXTRA_CA_CERTS" >${helperDir}/seen\n` +
      `printf '{"Username":"%s","Secret":"%s"}' '${registry.username}' '${registry.password}'\n`,
  );
  await chmod(join(helperDir, 'docker-credential-envdump'), 0o755);
  await writeFile(join(helperDir, 'docker/config.json'), '{"credsStore":"envdump"}');
}, 240_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs `argv` with `env` over this process's environment (undefined removes a variable). */
function launch(argv: string[], env: Record<string, string | undefined>) {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    DOCKER_CONFIG: join(helperDir, 'docker'),
    PATH: `${helperDir}:${process.env.PATH}`,
    NODE_EXTRA_CA_CERTS: undefined,
    BERTH_EXTRA_CA_CERTS: undefined,
    ...env,
  };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the demo CLI launcher', () => {
  it('pulls over TLS trusting the CA named by NODE_EXTRA_CA_CERTS, and only then', async () => {
    const dropped = await launch([bin, 'pull', reference, join(work, 'no-ca')], {});
    expect(dropped.code).toBe(1);
    expect(dropped.stderr).toMatch(/^berth-registry-demo pull: .*\[TLS_ERROR\]\n$/);

    const dir = join(work, 'launched');
    const pulled = await launch([bin, 'pull', reference, dir], { NODE_EXTRA_CA_CERTS: registry.caFile });
    expect(pulled.stderr).toBe('');
    expect(pulled.stdout).toBe(`${reference}: ${digest}\n`);
    expect(pulled.code).toBe(0);
    expect((await toLayout(dir).resolve(reference)).digest).toBe(digest);
    // the credential helper got the variable back under its own name
    expect(await readFile(join(helperDir, 'seen'), 'utf8')).toBe(`${registry.caFile}|${registry.caFile}`);

    // dist/cli.cjs run by plain node, the variable left in place, trusts it too
    const direct = await launch(
      [process.execPath, join(dist, 'cli.cjs'), 'pull', reference, join(work, 'direct')],
      {
        NODE_EXTRA_CA_CERTS: registry.caFile,
      },
    );
    expect(direct.stderr).toBe('');
    expect(direct.code).toBe(0);
  });

  it('does not load the CA file at start, only when it opens a TLS connection', async () => {
    const missing = join(work, 'no-such-ca.pem');
    // plain node loads it at start and warns
    const direct = await launch([process.execPath, join(dist, 'cli.cjs'), '--help'], {
      NODE_EXTRA_CA_CERTS: missing,
    });
    expect(direct.stderr).toContain(`Ignoring extra certs from \`${missing}\``);

    const help = await launch([bin, '--help'], { NODE_EXTRA_CA_CERTS: missing });
    expect(help.stderr).toMatch(/^usage:\n/);
    expect(help.code).toBe(0);

    const pull = await launch([bin, 'pull', reference, join(work, 'missing-ca')], {
      NODE_EXTRA_CA_CERTS: missing,
    });
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain(`cannot read extra CA certificates from ${missing}: ENOENT`);
  });

  it('compiles the CLI once: the second run starts from the V8 code cache the first wrote', async () => {
    // a copy of the bin, so the cache starts absent and no other test's run rewrites it
    const copy = join(work, 'copy');
    await mkdir(copy);
    for (const f of ['berth-registry-demo', 'cli.cjs', 'cli-bundle.cjs'])
      await copyFile(join(dist, f), join(copy, f));
    const cache = join(copy, 'cli-bundle.cjs.pull.v8cache');
    const pull = async (n: number) => {
      const r = await launch(
        [join(copy, 'berth-registry-demo'), 'pull', reference, join(work, `cached-${n}`)],
        {
          NODE_EXTRA_CA_CERTS: registry.caFile,
        },
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${reference}: ${digest}\n`);
      expect(r.code).toBe(0);
    };
    await pull(1);
    const written = await stat(cache);
    expect(written.size).toBeGreaterThan(0);
    // a cache V8 refused (made under other flags) would be written again: a new file, renamed in
    await pull(2);
    await pull(3);
    const after = await stat(cache);
    expect(after.ino).toBe(written.ino);
    expect(after.mtimeMs).toBe(written.mtimeMs);
  });
});
