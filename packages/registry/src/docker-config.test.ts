// ~/.docker/config.json: reading auths, credential helpers (real executables written to a temp
// dir), and login/logout writing the same format with mode 0600.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DOCKER_HUB_SERVER,
  defaultDockerConfigDir,
  dockerConfigCredentials,
  getCredentials,
  login,
  logout,
  readDockerConfig,
} from './docker-config.js';

let dir: string;
let bin: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-docker-config-`));
  bin = join(dir, 'bin');
  await mkdir(bin);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const writeConfig = (cfg: unknown) => writeFile(join(dir, 'config.json'), JSON.stringify(cfg));

/** A docker-credential-<name> that keeps its store in a JSON file beside it. */
async function fakeHelper(name: string): Promise<string> {
  const store = join(bin, `${name}.json`);
  const script = `#!/usr/bin/env node
const fs = require('fs');
const store = ${JSON.stringify(store)};
const db = fs.existsSync(store) ? JSON.parse(fs.readFileSync(store, 'utf8')) : {};
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const action = process.argv[2];
  if (action === 'get') {
    const e = db[input.trim()];
    if (!e) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
    process.stdout.write(JSON.stringify({ ServerURL: input.trim(), Username: e.Username, Secret: e.Secret }));
  } else if (action === 'store') {
    const r = JSON.parse(input);
    db[r.ServerURL] = { Username: r.Username, Secret: r.Secret };
    fs.writeFileSync(store, JSON.stringify(db));
  } else if (action === 'erase') {
    delete db[input.trim()];
    fs.writeFileSync(store, JSON.stringify(db));
  } else process.exit(2);
});
`;
  const path = join(bin, `docker-credential-${name}`);
  await writeFile(path, script);
  await chmod(path, 0o755);
  return store;
}

describe('docker config', () => {
  it('finds the directory like docker: $DOCKER_CONFIG, else ~/.docker', () => {
    expect(defaultDockerConfigDir({ DOCKER_CONFIG: '/x/y', HOME: '/home/u' })).toBe('/x/y');
    expect(defaultDockerConfigDir({ HOME: '/home/u' })).toBe('/home/u/.docker');
  });

  it('reads base64 auths, Docker Hub under its legacy URL, hosts with or without scheme', async () => {
    await writeConfig({
      auths: {
        [DOCKER_HUB_SERVER]: { auth: b64('hubuser:hubpass') },
        'https://ghcr.io': { auth: b64('gh:token:with:colons') },
        'localhost:5000': { identitytoken: 'refresh-me' },
      },
      someOtherKey: { kept: true },
    });
    expect(await getCredentials('docker.io', { dir })).toEqual({ username: 'hubuser', password: 'hubpass' });
    expect(await getCredentials('ghcr.io', { dir })).toEqual({
      username: 'gh',
      password: 'token:with:colons',
    });
    expect(await getCredentials('localhost:5000', { dir })).toEqual({ identityToken: 'refresh-me' });
    expect(await getCredentials('quay.io', { dir })).toBeUndefined();
    expect(await dockerConfigCredentials({ dir })('docker.io', {})).toMatchObject({ username: 'hubuser' });
  });

  it('treats a missing file as empty and refuses malformed ones with DOCKER_CONFIG_INVALID', async () => {
    expect(await readDockerConfig({ dir })).toEqual({});
    await writeFile(join(dir, 'config.json'), '{ not json');
    expect(isBerthError(await readDockerConfig({ dir }).catch((e) => e), 'DOCKER_CONFIG_INVALID')).toBe(true);
    await writeConfig({ auths: { 'a.io': { auth: 42 } } });
    expect(isBerthError(await readDockerConfig({ dir }).catch((e) => e), 'DOCKER_CONFIG_INVALID')).toBe(true);
    await writeConfig({ auths: { 'a.io': { auth: b64('no-colon') } } });
    expect(isBerthError(await getCredentials('a.io', { dir }).catch((e) => e), 'DOCKER_CONFIG_INVALID')).toBe(
      true,
    );
  });

  it('login writes base64 user:password with mode 0600 and keeps other keys; logout removes it', async () => {
    await writeConfig({ auths: { 'other.io': { auth: b64('o:p') } }, psFormat: 'table {{.ID}}' });
    await chmod(join(dir, 'config.json'), 0o644);
    expect(await login({ dir, registry: 'docker.io', username: 'me', password: 's3cret' })).toEqual({
      storedIn: 'config',
    });
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(cfg.psFormat).toBe('table {{.ID}}');
    expect(cfg.auths[DOCKER_HUB_SERVER]).toEqual({ auth: b64('me:s3cret') });
    expect(cfg.auths['other.io']).toEqual({ auth: b64('o:p') });
    expect((await stat(join(dir, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(await getCredentials('docker.io', { dir })).toEqual({ username: 'me', password: 's3cret' });
    expect(await logout({ dir, registry: 'docker.io' })).toEqual({ removed: true });
    expect(await getCredentials('docker.io', { dir })).toBeUndefined();
    expect(await getCredentials('other.io', { dir })).toEqual({ username: 'o', password: 'p' });
    expect(await logout({ dir, registry: 'docker.io' })).toEqual({ removed: false });
  });

  it('login creates the directory and file when there is none', async () => {
    const fresh = join(dir, 'new', '.docker');
    await login({ dir: fresh, registry: '127.0.0.1:5000', username: 'u', password: 'p' });
    expect((await stat(join(fresh, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(await getCredentials('127.0.0.1:5000', { dir: fresh })).toEqual({ username: 'u', password: 'p' });
  });

  it('uses credHelpers and credsStore through docker-credential-* executables', async () => {
    const store = await fakeHelper('berthtest');
    await writeConfig({ credHelpers: { 'registry.example.com': 'berthtest' }, auths: {} });
    const opts = { dir, helperDirs: [bin] };
    expect(await login({ ...opts, registry: 'registry.example.com', username: 'h', password: 'hp' })).toEqual(
      {
        storedIn: 'helper',
      },
    );
    expect(JSON.parse(await readFile(store, 'utf8'))).toEqual({
      'registry.example.com': { Username: 'h', Secret: 'hp' },
    });
    // Nothing lands in config.json for a helper-managed registry.
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).auths).toEqual({});
    expect(await getCredentials('registry.example.com', opts)).toEqual({ username: 'h', password: 'hp' });
    // A registry without a helper entry is not asked of the helper.
    expect(await getCredentials('other.example.com', opts)).toBeUndefined();
    // credsStore covers every registry; "<token>" marks an identity token; Hub uses its legacy URL.
    await writeConfig({ credsStore: 'berthtest' });
    await login({ ...opts, registry: 'docker.io', username: '<token>', password: 'idtok' });
    expect(JSON.parse(await readFile(store, 'utf8'))[DOCKER_HUB_SERVER]).toEqual({
      Username: '<token>',
      Secret: 'idtok',
    });
    expect(await getCredentials('docker.io', opts)).toEqual({ identityToken: 'idtok' });
    expect(await logout({ ...opts, registry: 'docker.io' })).toEqual({ removed: true });
    expect(await getCredentials('docker.io', opts)).toBeUndefined();
  });

  it('falls back to auths when the helper is not installed, and fails clearly when it breaks', async () => {
    await writeConfig({ credsStore: 'absent', auths: { 'a.io': { auth: b64('x:y') } } });
    expect(await getCredentials('a.io', { dir, helperDirs: [bin] })).toEqual({
      username: 'x',
      password: 'y',
    });
    const broken = join(bin, 'docker-credential-broken');
    await writeFile(broken, '#!/bin/sh\necho "keychain locked" >&2\nexit 3\n');
    await chmod(broken, 0o755);
    await writeConfig({ credsStore: 'broken' });
    const err = await getCredentials('a.io', { dir, helperDirs: [bin] }).catch((e) => e);
    expect(isBerthError(err, 'CREDENTIAL_HELPER_FAILED')).toBe(true);
    expect(err.message).toContain('keychain locked');
    await writeConfig({ credsStore: '../../bin/sh' });
    expect(
      isBerthError(await getCredentials('a.io', { dir }).catch((e) => e), 'CREDENTIAL_HELPER_FAILED'),
    ).toBe(true);
  });
});
