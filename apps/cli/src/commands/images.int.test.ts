import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildFixtures,
  type FixtureSet,
  pushFixture,
  type RegistryHandle,
  startRegistry,
} from '@berth/fixtures';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../testing/cli-harness.js';

let fixtures: FixtureSet;
let registry: RegistryHandle;
const dirs: string[] = [];

beforeAll(async () => {
  fixtures = await buildFixtures();
  registry = await startRegistry();
  await pushFixture(registry, fixtures.images.busybox, 'test/busybox:1');
  await pushFixture(registry, fixtures.images.layers, 'test/layers:1');
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
  dirs.push(d);
  return d;
}

/** `berth ARGV` in this process over the state root and docker config under `root`. */
const cli = (root: string, ...argv: string[]) =>
  runInProcess({ BERTH_ROOT: join(root, 'root'), DOCKER_CONFIG: join(root, 'docker') }, ...argv);

describe('berth image commands', () => {
  it('pull, images, tag, inspect, history, rmi, prune, system df', async () => {
    const d = await temp();
    const name = `${registry.host}/test/busybox`;
    const fx = fixtures.images.busybox.gzip;
    if (fx.kind !== 'manifest') throw new Error('fixture');
    const layerId = fx.layers[0]!.digest.slice(7, 19);

    const pull = await cli(d, 'pull', name);
    expect(pull.out).toBe(
      'Using default tag: latest\n1: Pulling from test/busybox\n'.replace('1:', 'latest:'),
    );
    expect(pull.code).toBe(125); // `latest` is not in the registry
    expect(pull.err).toMatch(/^Error: /);

    const ok = await cli(d, 'pull', `${name}:1`);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toBe(
      [
        '1: Pulling from test/busybox',
        `${layerId}: Pulling fs layer`,
        `${layerId}: Downloading`,
        `${layerId}: Verifying Checksum`,
        `${layerId}: Download complete`,
        `${layerId}: Extracting`,
        `${layerId}: Pull complete`,
        `Digest: ${fx.digest}`,
        `Status: Downloaded newer image for ${name}:1`,
        `${name}:1`,
        '',
      ].join('\n'),
    );
    const quiet = await cli(d, 'pull', '-q', `${name}:1`);
    expect(quiet.out).toBe(`${name}:1\n`);

    const images = await cli(d, 'images');
    const lines = images.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${name.replace(/\./g, '\\.')}\\s+1\\s+${fx.config.digest.slice(7, 19)}\\s+\\d+ years ago\\s+\\d`,
      ),
    );
    expect((await cli(d, 'images', '-q')).out).toBe(`${fx.config.digest.slice(7, 19)}\n`);
    expect((await cli(d, 'images', '-q', '--no-trunc')).out).toBe(`${fx.config.digest}\n`);
    expect((await cli(d, 'image', 'ls', '--digests')).out).toContain(fx.digest);
    const json = JSON.parse((await cli(d, 'images', '--format', 'json')).out) as Record<string, string>;
    expect(json.Repository).toBe(name);
    expect(json.Tag).toBe('1');

    expect((await cli(d, 'tag', `${name}:1`, 'mine:2')).code).toBe(0);
    expect(
      (await cli(d, 'images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=mine')).out,
    ).toBe('mine:2\n');
    expect((await cli(d, 'images', '--filter', 'dangling=true', '-q')).out).toBe('');
    expect((await cli(d, 'image', 'inspect', '-f', '{{.Id}} {{.Os}}', 'mine:2')).out).toBe(
      `${fx.config.digest} linux\n`,
    );
    const inspected = JSON.parse((await cli(d, 'inspect', 'mine:2')).out) as { RepoTags: string[] }[];
    expect(inspected[0]?.RepoTags.sort()).toEqual([`${name}:1`, 'mine:2'].sort());
    const missing = await cli(d, 'image', 'inspect', 'nosuch');
    expect(missing).toMatchObject({ code: 1, out: '[]\n', err: 'Error: No such image: nosuch\n' });
    const hist = await cli(d, 'history', 'mine:2');
    expect(hist.out.split('\n')[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(hist.out.split('\n')[1]).toMatch(new RegExp(`^${fx.config.digest.slice(7, 19)}\\s`));

    const conflict = await cli(d, 'rmi', fx.config.digest.slice(7, 19));
    expect(conflict.code).toBe(125);
    expect(conflict.err).toMatch(
      /^Error: conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories\n$/,
    );
    expect((await cli(d, 'rmi', 'mine:2')).out).toBe('Untagged: mine:2\n');
    const nosuch = await cli(d, 'rmi', 'busybox');
    expect(nosuch).toMatchObject({ code: 125, err: 'Error: No such image: busybox:latest\n' });

    const df = await cli(d, 'system', 'df');
    expect(df.out.split('\n')[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    expect(df.out.split('\n')[1]).toMatch(/^Images\s+1\s+0\s+\S+\s+\S+ \(100%\)$/);

    const pruned = await cli(d, 'image', 'prune', '-a', '-f');
    expect(pruned.out).toMatch(new RegExp(`^Deleted Images:\\nuntagged: ${name.replace(/\./g, '\\.')}:1\\n`));
    expect(pruned.out).toContain(`deleted: ${fx.config.digest}\n`);
    expect(pruned.out).toMatch(/\nTotal reclaimed space: \d/);
    expect((await cli(d, 'images', '-q')).out).toBe('');
  });

  it('save -o, load -i, push, login, logout', async () => {
    const d = await temp();
    const name = `${registry.host}/test/layers:1`;
    expect((await cli(d, 'pull', '-q', name)).code).toBe(0);
    const tar = join(d, 'out.tar');
    expect(await cli(d, 'save', '-o', tar, name)).toMatchObject({ code: 0, out: '', err: '' });
    expect((await stat(tar)).size).toBeGreaterThan(0);
    const d2 = await temp();
    expect((await cli(d2, 'load', '-q', '-i', tar)).out).toBe(`Loaded image: ${name}\n`);
    expect((await cli(d2, 'images', '--format', '{{.Repository}}:{{.Tag}}')).out).toBe(`${name}\n`);

    expect((await cli(d, 'tag', name, `${registry.host}/pushed/layers:9`)).code).toBe(0);
    const push = await cli(d, 'push', `${registry.host}/pushed/layers:9`);
    expect(push.code).toBe(0);
    expect(push.out.split('\n')[0]).toBe(`The push refers to repository [${registry.host}/pushed/layers]`);
    expect(push.out).toMatch(/\n9: digest: sha256:[0-9a-f]{64} size: \d+\n$/);

    const secured = await startRegistry({ auth: 'basic' });
    try {
      const bad = await cli(d, 'login', '-u', secured.username!, '-p', 'nope', secured.host);
      expect(bad.code).toBe(125);
      const good = await cli(d, 'login', '-u', secured.username!, '-p', secured.password!, secured.host);
      expect(good).toMatchObject({ code: 0, out: 'Login Succeeded\n' });
      expect(good.err).toContain('WARNING! Using --password via the CLI is insecure');
      const cfg = JSON.parse(await readFile(join(d, 'docker', 'config.json'), 'utf8')) as { auths: object };
      expect(Object.keys(cfg.auths)).toEqual([secured.host]);
      expect((await cli(d, 'logout', secured.host)).out).toBe(
        `Removing login credentials for ${secured.host}\n`,
      );
      expect((await cli(d, 'logout', secured.host)).out).toBe(`Not logged in to ${secured.host}\n`);
    } finally {
      await secured.stop();
    }
  });
});
