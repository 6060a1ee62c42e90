// Auth flows, retries and mirrors against a fake registry on loopback (the real registry has
// only htpasswd; the bearer flow needs a token server, which a real registry would not give us).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient, type RegistryClient } from './client.js';
import { type FakeImage, type FakeRegistry, makeImage, startFake } from './fake-registry.test-support.js';
import { toLayout } from './layout-sink.js';

let work: string;
let image: FakeImage;
let fake: FakeRegistry;
const servers: FakeRegistry[] = [];
const clients: RegistryClient[] = [];
const client = (o: Parameters<typeof createRegistryClient>[0] = {}) => {
  const c = createRegistryClient({ retryDelayMs: 1, ...o });
  clients.push(c);
  return c;
};

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-client-`));
  image = makeImage([3000, 5000]);
  fake = await startFake({ image });
  servers.push(fake);
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
  await rm(work, { recursive: true, force: true });
});

/** Guards `fake` with the bearer token flow; returns counters and a revoke switch. */
function bearer(options: { user?: string; password?: string } = {}) {
  const state = {
    issued: 0,
    valid: new Set<string>(),
    scopes: [] as string[][],
    accounts: [] as (string | null)[],
  };
  fake.hooks.push((req, res) => {
    const url = new URL(req.url ?? '/', fake.url);
    if (url.pathname === '/token') {
      const expected = options.user
        ? `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`
        : undefined;
      if (expected !== undefined && req.headers.authorization !== expected) {
        res.writeHead(401).end('{"details":"bad credentials"}');
        return true;
      }
      state.issued++;
      const token = `tok-${state.issued}`;
      state.valid.add(token);
      state.scopes.push(url.searchParams.getAll('scope'));
      state.accounts.push(url.searchParams.get('account'));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token, expires_in: 300 }));
      return true;
    }
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('Bearer ') && state.valid.has(auth.slice(7))) return false;
    const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(url.pathname);
    const scope = m ? `,scope="repository:${m[1]}:pull"` : '';
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="${fake.url}/token",service="fake.test"${scope}`,
    });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    return true;
  });
  return { state, revoke: () => state.valid.clear() };
}

describe('bearer token flow', () => {
  it('fetches one token per scope, reuses it, and sends credentials to the realm', async () => {
    const { state } = bearer({ user: 'alice', password: 'pw' });
    const c = client({ credentials: async () => ({ username: 'alice', password: 'pw' }) });
    const result = await c.pull(`${fake.host}/test/image:latest`, toLayout(join(work, 'a')));
    expect(result.layers).toHaveLength(2);
    expect(state.issued).toBe(1);
    expect(state.scopes[0]).toEqual(['repository:test/image:pull']);
    expect(state.accounts[0]).toBe('alice');
    // Another repository is another scope: a second token.
    fake.manifests.set('other/repo:1', fake.manifests.get('test/image:latest')!);
    await c.resolve(`${fake.host}/other/repo:1`);
    expect(state.issued).toBe(2);
    expect(state.scopes[1]).toEqual(['repository:other/repo:pull']);
  });

  it('fetches a new token when the registry answers 401 to a cached one', async () => {
    const { state, revoke } = bearer();
    const c = client();
    await c.resolve(`${fake.host}/test/image:latest`);
    expect(state.issued).toBe(1);
    revoke();
    await c.resolve(`${fake.host}/test/image:latest`);
    expect(state.issued).toBe(2);
  });

  it('reports UNAUTHORIZED when the realm refuses the credentials', async () => {
    bearer({ user: 'alice', password: 'pw' });
    const c = client({ credentials: async () => ({ username: 'alice', password: 'wrong' }) });
    const err = await c.resolve(`${fake.host}/test/image:latest`).catch((e) => e);
    expect(isBerthError(err, 'UNAUTHORIZED')).toBe(true);
    expect(err.message).toContain('token request');
  });

  it('checks a login through the token flow', async () => {
    bearer({ user: 'alice', password: 'pw' });
    const c = client();
    await expect(
      c.checkLogin({ registry: fake.host, username: 'alice', password: 'bad' }),
    ).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await c.checkLogin({ registry: fake.host, username: 'alice', password: 'pw' });
  });

  it('refuses a token realm on plain http at a non-loopback host', async () => {
    fake.hooks.push((_req, res) => {
      res
        .writeHead(401, { 'www-authenticate': 'Bearer realm="http://auth.example.com/token",service="x"' })
        .end();
      return true;
    });
    const err = await client()
      .resolve(`${fake.host}/test/image:latest`)
      .catch((e) => e);
    expect(isBerthError(err, 'INSECURE_REGISTRY')).toBe(true);
  });
});

describe('retries', () => {
  it('retries 5xx and 429 (honouring Retry-After) and then succeeds', async () => {
    let calls = 0;
    fake.hooks.push((req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      calls++;
      if (calls === 1) {
        res.writeHead(503).end();
        return true;
      }
      if (calls === 2) {
        res.writeHead(429, { 'retry-after': '0' }).end();
        return true;
      }
      return false;
    });
    const desc = await client().resolve(`${fake.host}/test/image:latest`);
    expect(desc.digest).toBe(image.manifest.digest);
    expect(calls).toBe(3);
  });

  it('gives up after the configured retries with the status mapped', async () => {
    fake.hooks.push((req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      res.writeHead(502).end();
      return true;
    });
    const err = await client({ retries: 2 })
      .resolve(`${fake.host}/test/image:latest`)
      .catch((e) => e);
    expect(isBerthError(err, 'REGISTRY_ERROR')).toBe(true);
    expect(err.status).toBe(502);
    expect(fake.requests.filter((r) => r.url.includes('/manifests/'))).toHaveLength(3);
  });

  it('retries a connection reset', async () => {
    let resets = 0;
    fake.hooks.push((req, res) => {
      if (!req.url?.includes('/manifests/') || resets > 0) return false;
      resets++;
      res.socket?.destroy();
      return true;
    });
    const desc = await client().resolve(`${fake.host}/test/image:latest`);
    expect(desc.digest).toBe(image.manifest.digest);
  });

  it('reports NETWORK_ERROR when nothing listens', async () => {
    const dead = await startFake();
    const host = dead.host;
    await dead.close();
    const err = await client({ retries: 1 })
      .resolve(`${host}/x/y:1`)
      .catch((e) => e);
    expect(isBerthError(err, 'NETWORK_ERROR')).toBe(true);
  });

  it('stops at once when the signal aborts', async () => {
    fake.hooks.push((req) => Boolean(req.url?.includes('/manifests/'))); // never answers
    const controller = new AbortController();
    const p = client().pull(`${fake.host}/test/image:latest`, toLayout(join(work, 'x')), {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(p).rejects.toThrow('stop');
  });
});

describe('mirrors', () => {
  it('reads from a mirror first and falls back to the registry when the mirror fails', async () => {
    const mirror = await startFake();
    servers.push(mirror);
    mirror.hooks.push((req, res) => {
      if (req.url === '/v2/') return false;
      res.writeHead(500).end();
      return true;
    });
    const c = client({ retries: 0, mirrors: { [fake.host]: [`http://${mirror.host}`] } });
    const result = await c.pull(`${fake.host}/test/image:latest`, toLayout(join(work, 'm')));
    expect(result.manifest.digest).toBe(image.manifest.digest);
    expect(mirror.requests.some((r) => r.url.includes('/manifests/'))).toBe(true);
  });

  it('serves everything from a healthy mirror', async () => {
    const mirror = await startFake({ image });
    servers.push(mirror);
    const c = client({ mirrors: { [fake.host]: [mirror.host] } });
    await c.pull(`${fake.host}/test/image:latest`, toLayout(join(work, 'h')));
    expect(fake.requests.filter((r) => r.url.includes('/blobs/'))).toHaveLength(0);
    expect(mirror.requests.filter((r) => r.url.includes('/blobs/')).length).toBeGreaterThan(0);
  });
});

describe('plain http', () => {
  it('refuses plain http for a host that is neither loopback nor insecure', async () => {
    // 0.0.0.0 reaches the loopback listener on Linux but is not a loopback name.
    const port = fake.host.split(':')[1];
    const err = await client({ retries: 0 })
      .resolve(`0.0.0.0:${port}/test/image:latest`)
      .catch((e) => e);
    expect(isBerthError(err, 'INSECURE_REGISTRY')).toBe(true);
    const ok = await client({ insecure: [`0.0.0.0:${port}`] }).resolve(`0.0.0.0:${port}/test/image:latest`);
    expect(ok.digest).toBe(image.manifest.digest);
  });
});

describe('pull round trips', () => {
  it('gets the manifest once by tag (no HEAD, no /v2/ ping on loopback) and each blob once', async () => {
    const result = await client().pull(`${fake.host}/test/image:latest`, toLayout(join(work, 'rt')));
    expect(result.manifest.digest).toBe(image.manifest.digest);
    const calls = fake.requests.map((r) => `${r.method} ${r.url}`);
    const blobs = [image.config, ...image.layers].map((d) => `GET /v2/test/image/blobs/${d.digest}`);
    expect(calls.sort()).toEqual(['GET /v2/test/image/manifests/latest', ...blobs].sort());
  });
});
