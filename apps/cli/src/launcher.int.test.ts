/**
 * The `berth` bin (src/berth.sh, built to dist/berth): a sh launcher that keeps
 * NODE_EXTRA_CA_CERTS away from node's start (Node 20 parses the whole file before any code
 * runs) and hands it to the registry client for TLS. Run as a user runs it: through a symlink,
 * as npm's global install links the bin, against a TLS registry whose CA is made at test time
 * and given only through NODE_EXTRA_CA_CERTS.
 */
import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildFixtures, pushFixture, type RegistryHandle, startRegistry } from '@berth/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliHarness, finish } from './testing/cli-harness.js';

const cli = cliHarness('bca');
let registry: RegistryHandle;
let link = '';

beforeAll(async () => {
  await cli.setup();
  await cli.loadBusybox();
  registry = await startRegistry({ auth: 'tls' });
  await pushFixture(registry, (await buildFixtures()).images.busybox, 'test/busybox:1');
  await mkdir(join(cli.root, 'bin'));
  link = join(cli.root, 'bin/berth');
  await symlink(join(dirname(cli.bin), 'berth'), link);
}, 240_000);

afterAll(async () => {
  await registry?.stop();
  await cli.dispose();
});

/** `berth ARGS` through the symlinked launcher, with `env` over the harness's environment. */
function launch(env: Record<string, string | undefined>, ...args: string[]) {
  const merged: Record<string, string | undefined> = { ...process.env, ...cli.vars, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return finish(spawn(link, args, { env: merged, stdio: ['ignore', 'pipe', 'pipe'] }));
}

const noCa = { NODE_EXTRA_CA_CERTS: undefined, BERTH_EXTRA_CA_CERTS: undefined };

describe('the berth launcher', () => {
  it('passes arguments with spaces and quotes, and the exit code, through a symlink', async () => {
    const r = await launch(
      {},
      ...['run', '--rm', 'busybox', 'sh', '-c', 'printf "[%s]" "$@"; exit 7', 'sh'],
      ...['a b', "c'd", 'e"f', '', '$HOME *'],
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`[a b][c'd][e"f][][$HOME *]`);
    expect(r.code).toBe(7);
  });

  it('pulls over TLS trusting the CA named by NODE_EXTRA_CA_CERTS, and only then', async () => {
    const ref = `${registry.host}/test/busybox:1`;
    const dropped = await launch(noCa, 'pull', '-q', ref);
    expect(dropped.code).toBe(125);
    expect(dropped.stderr).toMatch(/^Error: .*tls error/);

    const pulled = await launch({ ...noCa, NODE_EXTRA_CA_CERTS: registry.caFile }, 'pull', '-q', ref);
    expect(pulled.stderr).toBe('');
    expect(pulled.stdout).toBe(`${ref}\n`);
    expect(pulled.code).toBe(0);
    const images = await launch(noCa, 'images', '--format', '{{.Repository}}:{{.Tag}}', ref);
    expect(images.stdout).toBe(`${ref}\n`);

    // dist/berth.js run by plain node, the variable left in place, trusts it too
    const direct = await finish(
      spawn(process.execPath, [cli.bin, 'pull', '-q', ref], {
        env: {
          ...process.env,
          ...cli.vars,
          BERTH_ROOT: join(cli.root, 'direct'),
          NODE_EXTRA_CA_CERTS: registry.caFile,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(direct.stderr).toBe('');
    expect(direct.code).toBe(0);
  });

  it('does not load the CA file at start, only when it opens a TLS connection', async () => {
    const missing = join(cli.root, 'no-such-ca.pem');
    const env = { ...noCa, NODE_EXTRA_CA_CERTS: missing };
    // plain node loads it at start and warns
    const direct = finish(
      spawn(process.execPath, [cli.bin, 'version'], {
        env: { ...process.env, ...cli.vars, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect((await direct).stderr).toContain(`Ignoring extra certs from \`${missing}\``);

    const version = await launch(env, 'version', '--format', '{{.Client.Version}}');
    expect(version.stderr).toBe('');
    expect(version.code).toBe(0);

    const pull = await launch(env, 'pull', '-q', `${registry.host}/test/busybox:1`);
    expect(pull.code).toBe(125);
    expect(pull.stderr).toContain(`cannot read extra CA certificates from ${missing}: ENOENT`);
  });

  it('gives credential helpers NODE_EXTRA_CA_CERTS back', async () => {
    const dir = join(cli.root, 'helper');
    await mkdir(join(dir, 'docker'), { recursive: true });
    const seen = join(dir, 'seen');
    await writeFile(
      join(dir, 'docker-credential-envdump'),
      `#!/bin/sh\ncat >/dev/null\nprintf '%s|%s' "$NODE_EXTRA_CA_CERTS" "$BERTH_EXTRA_CA_CERTS" >${seen}\n`,
    );
    await chmod(join(dir, 'docker-credential-envdump'), 0o755);
    await writeFile(join(dir, 'docker/config.json'), '{"credsStore":"envdump"}');
    const env = {
      ...noCa,
      NODE_EXTRA_CA_CERTS: registry.caFile,
      DOCKER_CONFIG: join(dir, 'docker'),
      PATH: `${dir}:${process.env.PATH}`,
    };
    const r = await launch(env, 'logout', registry.host);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await readFile(seen, 'utf8')).toBe(`${registry.caFile}|${registry.caFile}`);
  });
});

describe('the V8 code cache of pull', () => {
  it('is written by the second pull and used, not rewritten, by the next ones', async () => {
    // a private copy of the bundle beside dist (the same relative lookups), so the cache starts
    // absent and no other test's run writes it
    const dist = dirname(cli.bin);
    const copy = join(dist, `../.dist-cache-t${process.pid}`);
    await rm(copy, { recursive: true, force: true });
    await mkdir(copy);
    try {
      for (const f of await readdir(dist)) {
        if (/^(berth(\.js|\.cjs)?|undici\.cjs|apply-worker\.m?js|package\.json)$/.test(f))
          await copyFile(join(dist, f), join(copy, f));
      }
      const cache = join(copy, 'berth.cjs.pull.v8cache');
      const ref = `${registry.host}/test/busybox:1`;
      const pull = async (n: number) => {
        const r = await finish(
          spawn(join(copy, 'berth'), ['pull', '-q', ref], {
            env: {
              ...process.env,
              ...cli.vars,
              ...noCa,
              BERTH_ROOT: join(cli.root, `cached-${n}`),
              NODE_EXTRA_CA_CERTS: registry.caFile,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          }),
        );
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe(`${ref}\n`);
        expect(r.code).toBe(0);
      };
      // the first run of a command leaves the file empty (it may do work the next ones skip:
      // compiled functions every later run would deserialise), the next one writes the cache
      await pull(1);
      expect((await stat(cache)).size).toBe(0);
      await pull(2);
      const written = await stat(cache);
      expect(written.size).toBeGreaterThan(0);
      // the pull changes V8's WebAssembly flags while it runs; a cache stamped with other flags
      // than the next run starts with would be refused and written again (a new file, renamed in)
      await pull(3);
      await pull(4);
      const after = await stat(cache);
      expect(after.ino).toBe(written.ino);
      expect(after.mtimeMs).toBe(written.mtimeMs);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
