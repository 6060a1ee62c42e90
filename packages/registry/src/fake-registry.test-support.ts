// A small registry on node:http for the unit tests that need a misbehaving server (hostile
// bodies, redirects, auth flows, rate limits). The real registry is tested in *.int.test.ts.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Descriptor, digestOf, MediaType } from '@berth/oci';

/** One recorded request. */
export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

/** A hook that may answer a request itself; return true when it did. */
export type Hook = (req: IncomingMessage, res: ServerResponse, seen: Seen) => boolean | Promise<boolean>;

/** A fake registry serving manifests and blobs from memory. */
export interface FakeRegistry {
  host: string;
  url: string;
  requests: Seen[];
  manifests: Map<string, { body: Buffer; contentType: string }>;
  blobs: Map<string, Buffer>;
  /** Hooks run in order before the default handling. */
  hooks: Hook[];
  close(): Promise<void>;
}

/** A tiny image: config + layers + manifest, with descriptors. */
export interface FakeImage {
  manifest: Descriptor;
  manifestBytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  blobs: Map<string, Buffer>;
}

/** Builds an image with layers of the given sizes (random content). */
export function makeImage(layerSizes: number[] = [4096]): FakeImage {
  const blobs = new Map<string, Buffer>();
  const add = (bytes: Buffer, mediaType: string): Descriptor => {
    const digest = digestOf(bytes);
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.byteLength };
  };
  const layers = layerSizes.map((n) => add(randomBytes(n), MediaType.OciLayerGzip));
  const config = add(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: layers.map(() => digestOf(randomBytes(8))) },
      }),
    ),
    MediaType.OciConfig,
  );
  const manifestBytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers }),
  );
  const manifest = {
    mediaType: MediaType.OciManifest,
    digest: digestOf(manifestBytes),
    size: manifestBytes.byteLength,
  };
  return { manifest, manifestBytes, config, layers, blobs };
}

/** Starts a fake registry on 127.0.0.1, optionally holding `image` as `repo:tag`. */
export async function startFake(
  options: { image?: FakeImage; repo?: string; tag?: string } = {},
): Promise<FakeRegistry> {
  const manifests = new Map<string, { body: Buffer; contentType: string }>();
  const blobs = new Map<string, Buffer>();
  const requests: Seen[] = [];
  const hooks: Hook[] = [];
  const repo = options.repo ?? 'test/image';
  if (options.image) {
    const entry = { body: options.image.manifestBytes, contentType: options.image.manifest.mediaType };
    manifests.set(`${repo}:${options.tag ?? 'latest'}`, entry);
    manifests.set(`${repo}:${options.image.manifest.digest}`, entry);
    for (const [d, b] of options.image.blobs) blobs.set(d, b);
  }
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    requests.push(seen);
    for (const hook of hooks) if (await hook(req, res, seen)) return;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (m === null) {
      res.writeHead(404).end();
      return;
    }
    const [, name, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const entry = manifests.get(`${name}:${ref}`);
      if (!entry) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
        return;
      }
      res.writeHead(200, {
        'content-type': entry.contentType,
        'content-length': entry.body.byteLength,
        'docker-content-digest': digestOf(entry.body),
      });
      res.end(req.method === 'HEAD' ? undefined : entry.body);
      return;
    }
    const blob = blobs.get(ref);
    if (!blob) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }));
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      res.writeHead(206, {
        'content-length': blob.byteLength - start,
        'content-range': `bytes ${start}-${blob.byteLength - 1}/${blob.byteLength}`,
      });
      res.end(req.method === 'HEAD' ? undefined : blob.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': blob.byteLength, 'content-type': 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : blob);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.destroy(err as Error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    manifests,
    blobs,
    hooks,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
