// A hostile registry on loopback: every misbehaviour ends in a clear typed error, nothing
// partial is committed to the sink, and credentials never follow a redirect to another host.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Digest, digestOf, isBerthError, MediaType } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient, type RegistryClient } from './client.js';
import { type FakeImage, type FakeRegistry, makeImage, startFake } from './fake-registry.test-support.js';
import { type OciLayout, toLayout } from './layout-sink.js';

let work: string;
let fake: FakeRegistry;
let image: FakeImage;
let client: RegistryClient;
let layout: OciLayout;
const servers: FakeRegistry[] = [];

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-hostile-`));
  image = makeImage([200_000]);
  fake = await startFake({ image });
  servers.push(fake);
  client = createRegistryClient({ retries: 1, retryDelayMs: 1, idleTimeoutMs: 200 });
  layout = toLayout(join(work, 'layout'));
});

afterEach(async () => {
  await client.close();
  for (const s of servers.splice(0)) await s.close();
  await rm(work, { recursive: true, force: true });
});

const ref = () => `${fake.host}/test/image:latest`;
const layer = () => image.layers[0]!;

async function failure(p: Promise<unknown>): Promise<Error & { code?: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

/** Nothing committed for `digest`, and (unless kept for resume) no ingest left. */
async function expectNothing(digest: Digest, options: { ingestKept?: boolean } = {}): Promise<void> {
  expect(await layout.info(digest)).toBeUndefined();
  const blobs = await readdir(join(layout.dir, 'blobs', 'sha256')).catch(() => []);
  expect(blobs).not.toContain(digest.slice('sha256:'.length));
  if (!options.ingestKept) expect(await readdir(join(layout.dir, 'ingest')).catch(() => [])).toEqual([]);
}

/** Serves `body` for the layer blob instead of the real bytes. */
function serveLayer(body: Buffer, headers: Record<string, string | number> = {}): void {
  fake.hooks.push((req, res) => {
    if (!req.url?.endsWith(`/blobs/${layer().digest}`)) return false;
    res.writeHead(200, headers);
    res.end(body);
    return true;
  });
}

describe('hostile registry', () => {
  it('refuses a manifest over 4 MiB announced by Content-Length', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
    fake.manifests.set('test/image:big', { body: big, contentType: MediaType.OciManifest });
    const err = await failure(client.pull(`${fake.host}/test/image:big`, layout));
    expect(isBerthError(err, 'MANIFEST_TOO_LARGE')).toBe(true);
    expect(err.message).toContain(`${fake.host}/test/image`);
  });

  it('refuses a manifest over 4 MiB streamed without Content-Length', async () => {
    fake.hooks.push((req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      res.writeHead(200, { 'content-type': MediaType.OciManifest, 'transfer-encoding': 'chunked' });
      if (req.method === 'HEAD') {
        res.end();
        return true;
      }
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 6; i++) res.write(chunk);
      res.end();
      return true;
    });
    const err = await failure(client.getManifest(ref()));
    expect(isBerthError(err, 'MANIFEST_TOO_LARGE')).toBe(true);
  });

  it('refuses invalid JSON as INVALID_MANIFEST', async () => {
    const body = Buffer.from('{"schemaVersion": 2, "layers": [');
    fake.manifests.set('test/image:bad', { body, contentType: MediaType.OciManifest });
    fake.manifests.set(`test/image:${digestOf(body)}`, { body, contentType: MediaType.OciManifest });
    const err = await failure(client.pull(`${fake.host}/test/image:bad`, layout));
    expect(isBerthError(err, 'INVALID_MANIFEST')).toBe(true);
  });

  it('refuses a manifest whose body does not match Docker-Content-Digest', async () => {
    fake.hooks.push((req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      res.writeHead(200, {
        'content-type': MediaType.OciManifest,
        'docker-content-digest': digestOf('something else'),
      });
      res.end(req.method === 'HEAD' ? undefined : image.manifestBytes);
      return true;
    });
    const err = await failure(client.getManifest(ref()));
    expect(isBerthError(err, 'DIGEST_MISMATCH')).toBe(true);
  });

  it('refuses a manifest fetched by digest whose bytes hash otherwise', async () => {
    const other = makeImage([10]);
    fake.manifests.set(`test/image:${image.manifest.digest}`, {
      body: other.manifestBytes,
      contentType: MediaType.OciManifest,
    });
    fake.hooks.push((req, res) => {
      // Strip the honest header so only the client's own hashing can catch it.
      if (!req.url?.includes(`/manifests/${image.manifest.digest}`)) return false;
      res.writeHead(200, {
        'content-type': MediaType.OciManifest,
        'content-length': other.manifestBytes.byteLength,
      });
      res.end(req.method === 'HEAD' ? undefined : other.manifestBytes);
      return true;
    });
    const err = await failure(client.pull(`${fake.host}/test/image@${image.manifest.digest}`, layout));
    expect(isBerthError(err, 'DIGEST_MISMATCH')).toBe(true);
  });

  it('refuses a blob longer than its descriptor (Content-Length says so)', async () => {
    const real = image.blobs.get(layer().digest)!;
    serveLayer(Buffer.concat([real, Buffer.from('extra')]), { 'content-length': real.byteLength + 5 });
    const err = await failure(client.pull(ref(), layout));
    expect(isBerthError(err, 'SIZE_MISMATCH')).toBe(true);
    await expectNothing(layer().digest);
  });

  it('refuses a blob longer than its descriptor (streamed, cut at the first extra byte)', async () => {
    const real = image.blobs.get(layer().digest)!;
    serveLayer(Buffer.concat([real, Buffer.alloc(100_000)]), { 'transfer-encoding': 'chunked' });
    const err = await failure(client.pull(ref(), layout));
    expect(isBerthError(err, 'SIZE_MISMATCH')).toBe(true);
    await expectNothing(layer().digest);
  });

  it('refuses a blob shorter than its descriptor', async () => {
    const real = image.blobs.get(layer().digest)!;
    serveLayer(real.subarray(0, 1000), { 'transfer-encoding': 'chunked' });
    const err = await failure(client.pull(ref(), layout));
    expect(isBerthError(err, 'SIZE_MISMATCH')).toBe(true);
    await expectNothing(layer().digest);
  });

  it('refuses a blob with the right size and the wrong digest', async () => {
    const real = image.blobs.get(layer().digest)!;
    const evil = Buffer.from(real);
    evil[1000] = (evil[1000]! + 1) % 256;
    serveLayer(evil, { 'content-length': evil.byteLength });
    const err = await failure(client.pull(ref(), layout));
    expect(isBerthError(err, 'DIGEST_MISMATCH')).toBe(true);
    expect(err.message).toContain(layer().digest);
    await expectNothing(layer().digest);
    // Nothing names the image either: no manifest committed, no tag written.
    expect(await layout.info(image.manifest.digest)).toBeUndefined();
    expect(await layout.entries()).toEqual([]);
  });

  it('ends endless redirects with TOO_MANY_REDIRECTS', async () => {
    let n = 0;
    fake.hooks.push((req, res) => {
      if (!req.url?.includes('/blobs/') && !req.url?.startsWith('/hop/')) return false;
      n++;
      res.writeHead(307, { location: `/hop/${n}` }).end();
      return true;
    });
    const err = await failure(client.pull(ref(), layout));
    expect(isBerthError(err, 'TOO_MANY_REDIRECTS')).toBe(true);
    await expectNothing(layer().digest, { ingestKept: true });
  });

  it('ends a redirect loop with TOO_MANY_REDIRECTS', async () => {
    fake.hooks.push((req, res) => {
      if (req.url?.includes('/blobs/')) {
        res.writeHead(302, { location: '/a' }).end();
        return true;
      }
      if (req.url === '/a' || req.url === '/b') {
        res.writeHead(302, { location: req.url === '/a' ? '/b' : '/a' }).end();
        return true;
      }
      return false;
    });
    const err = await failure(client.pull(ref(), layout));
    expect(isBerthError(err, 'TOO_MANY_REDIRECTS')).toBe(true);
    expect(err.message).toContain('loop');
  });

  it('ends a server that stops sending mid-blob with NETWORK_ERROR after resuming', {
    timeout: 30_000,
  }, async () => {
    const real = image.blobs.get(layer().digest)!;
    fake.hooks.push((req, res) => {
      if (!req.url?.includes('/blobs/') || !req.url.endsWith(layer().digest)) return false;
      // Announce everything, send a part, then go silent (the connection stays open).
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      res.writeHead(range ? 206 : 200, {
        'content-length': real.byteLength - start,
        ...(range ? { 'content-range': `bytes ${start}-${real.byteLength - 1}/${real.byteLength}` } : {}),
      });
      res.write(real.subarray(start, start + 1000));
      return true;
    });
    const err = await failure(client.pull(ref(), layout));
    expect(isBerthError(err, 'NETWORK_ERROR')).toBe(true);
    expect(err.message).toMatch(/interrupted at byte \d+ of 200000/);
    // It asked to resume where it was each time.
    const ranges = fake.requests.filter((r) => r.url.endsWith(layer().digest)).map((r) => r.headers.range);
    expect(ranges).toEqual([
      undefined,
      'bytes=1000-',
      'bytes=2000-',
      'bytes=3000-',
      'bytes=4000-',
      'bytes=5000-',
    ]);
    // The partial ingest is kept for a later resume, but no blob is visible.
    await expectNothing(layer().digest, { ingestKept: true });
  });

  it('resumes a body cut off mid-way with Range and completes verified', async () => {
    const real = image.blobs.get(layer().digest)!;
    let cut = false;
    fake.hooks.push((req, res) => {
      if (cut || !req.url?.endsWith(layer().digest)) return false;
      cut = true;
      res.writeHead(200, { 'content-length': real.byteLength });
      res.write(real.subarray(0, 50_000), () => res.destroy());
      return true;
    });
    const result = await client.pull(ref(), layout);
    expect(result.layers[0]!.digest).toBe(layer().digest);
    expect(await layout.info(layer().digest)).toEqual({ digest: layer().digest, size: real.byteLength });
    const ranges = fake.requests.filter((r) => r.url.endsWith(layer().digest)).map((r) => r.headers.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
  });

  it('starts over when the registry ignores Range', async () => {
    const real = image.blobs.get(layer().digest)!;
    let calls = 0;
    fake.hooks.push((req, res) => {
      if (!req.url?.endsWith(layer().digest)) return false;
      calls++;
      res.writeHead(200, { 'content-length': real.byteLength });
      if (calls === 1) res.write(real.subarray(0, 50_000), () => res.destroy());
      else res.end(real);
      return true;
    });
    await client.pull(ref(), layout);
    expect(await layout.info(layer().digest)).toEqual({ digest: layer().digest, size: real.byteLength });
  });

  it('never sends Authorization to the host a blob redirect points at', async () => {
    const storage = await startFake();
    servers.push(storage);
    for (const [d, b] of image.blobs) storage.blobs.set(d, b);
    // The registry wants Basic auth and redirects blob downloads to "storage" on another port.
    fake.hooks.push((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('user:secret').toString('base64')}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
        return true;
      }
      const m = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '');
      if (m === null) return false;
      res.writeHead(307, { location: `${storage.url}/v2/elsewhere/blobs/${m[1]}` }).end();
      return true;
    });
    const authed = createRegistryClient({
      credentials: async () => ({ username: 'user', password: 'secret' }),
    });
    try {
      await authed.pull(ref(), layout);
    } finally {
      await authed.close();
    }
    expect(await layout.info(layer().digest)).toBeDefined();
    const atStorage = storage.requests.filter((r) => r.url.includes('/blobs/'));
    expect(atStorage.length).toBeGreaterThan(0);
    for (const r of atStorage) expect(r.headers.authorization).toBeUndefined();
    expect(fake.requests.some((r) => r.headers.authorization !== undefined)).toBe(true);
  });

  it('maps the registry error body and status (NAME_UNKNOWN, DENIED, TOO_MANY_REQUESTS)', async () => {
    fake.hooks.push((req, res) => {
      if (req.url?.includes('/nope/')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }],
          }),
        );
        return true;
      }
      if (req.url?.includes('/secret/')) {
        res.writeHead(403).end();
        return true;
      }
      if (req.url?.includes('/busy/')) {
        res.writeHead(429, { 'retry-after': '0' }).end();
        return true;
      }
      return false;
    });
    const a = await failure(client.getManifest(`${fake.host}/nope/x:1`));
    expect(isBerthError(a, 'NAME_UNKNOWN')).toBe(true);
    expect(a).toMatchObject({ status: 404, registry: fake.host, repository: 'nope/x', reference: '1' });
    const b = await failure(client.getManifest(`${fake.host}/secret/x:1`));
    expect(isBerthError(b, 'DENIED')).toBe(true);
    const c = await failure(client.getManifest(`${fake.host}/busy/x:1`));
    expect(isBerthError(c, 'TOO_MANY_REQUESTS')).toBe(true);
    // retries: 1 → two attempts.
    expect(fake.requests.filter((r) => r.url.includes('/busy/'))).toHaveLength(2);
  });

  it('refuses docker schema 1 with UNSUPPORTED_MEDIA_TYPE', async () => {
    fake.manifests.set('test/image:old', {
      body: Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'test/image', tag: 'old', fsLayers: [] })),
      contentType: MediaType.DockerSchema1SignedManifest,
    });
    const err = await failure(client.pull(`${fake.host}/test/image:old`, layout));
    expect(isBerthError(err, 'UNSUPPORTED_MEDIA_TYPE')).toBe(true);
  });
});
