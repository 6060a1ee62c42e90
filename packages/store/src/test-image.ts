/**
 * Builds small images straight into a content store, for this package's tests, the crash-test
 * child and the list benchmark. Not part of the public API (not exported from index.ts).
 */
import { createHash } from 'node:crypto';
import { type Descriptor, digestOf, MediaType } from '@berth/oci';
import type { ContentStore } from './content.js';

/** What {@link writeTestImage} builds. */
export interface TestImageSpec {
  /** Layer contents (stored uncompressed, so diff ID = layer digest). */
  layers: string[];
  /** Config labels. */
  labels?: Record<string, string>;
  /** Config creation time. */
  created?: string;
  /** Architecture (default amd64). */
  architecture?: string;
  /** Lease to write under. */
  lease?: string;
}

/** Writes a blob (no-op content-wise when already present) and returns its descriptor. */
export async function putBlob(
  content: ContentStore,
  mediaType: string,
  bytes: Buffer,
  opts: { lease?: string; ref?: string } = {},
): Promise<Descriptor> {
  const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
  const w = await content.writer({
    desc,
    ...(opts.lease ? { lease: opts.lease } : {}),
    ...(opts.ref ? { ref: opts.ref } : {}),
  });
  await w.write(bytes.subarray(w.offset));
  await w.commit(desc.size, desc.digest);
  return desc;
}

/** Writes layers, config and manifest; returns the manifest descriptor and the config digest. */
export async function writeTestImage(
  content: ContentStore,
  spec: TestImageSpec,
): Promise<{ manifest: Descriptor; config: Descriptor; layers: Descriptor[] }> {
  const o = spec.lease === undefined ? {} : { lease: spec.lease };
  const layers: Descriptor[] = [];
  for (const l of spec.layers) layers.push(await putBlob(content, MediaType.OciLayer, Buffer.from(l), o));
  const config = {
    created: spec.created ?? '2024-01-01T00:00:00Z',
    architecture: spec.architecture ?? 'amd64',
    os: 'linux',
    config: { Labels: spec.labels ?? {}, Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    history: layers.map(() => ({ created_by: 'test' })),
  };
  const configDesc = await putBlob(content, MediaType.OciConfig, Buffer.from(JSON.stringify(config)), o);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: configDesc,
    layers,
  };
  const manifestDesc = await putBlob(
    content,
    MediaType.OciManifest,
    Buffer.from(JSON.stringify(manifest)),
    o,
  );
  return { manifest: manifestDesc, config: configDesc, layers };
}

/** A deterministic pseudo-random string of `n` hex characters from `seed`. */
export function seeded(seed: string, n: number): string {
  let out = '';
  let i = 0;
  while (out.length < n) out += createHash('sha256').update(`${seed}-${i++}`).digest('hex');
  return out.slice(0, n);
}

/** Number of distinct images the crash test cycles through. */
export const CRASH_IMAGES = 6;

/**
 * Writes crash-test image `j` (deterministic content: two layers of 128 KiB to 1 MiB written in
 * 64 KiB chunks under resumable refs), under a lease that ends with the process, then tags it `crash/app:<j>`
 * and `crash/app:latest`. Returns its image ID and whether any layer resumed a partial ingest.
 */
export async function writeCrashImage(
  store: import('./store.js').Store,
  j: number,
  hooks: { midLayer?: () => Promise<void> } = {},
): Promise<{ id: string; resumed: boolean }> {
  const lease = await store.leases.create({ expiresIn: 600_000, untilExit: true });
  let resumed = false;
  const layers: Descriptor[] = [];
  for (let k = 0; k < 2; k++) {
    const size = 128 * 1024 + (Number.parseInt(seeded(`size-${j}-${k}`, 6), 16) % (896 * 1024));
    const bytes = Buffer.from(seeded(`layer-${j}-${k}`, size));
    const desc: Descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(bytes), size };
    if ((await store.info(desc.digest)) === undefined) {
      const w = await store.writer({ ref: `crash-layer-${j}-${k}`, desc, lease: lease.id });
      if (w.offset > 0) resumed = true;
      for (let at = w.offset; at < size; at += 64 * 1024) {
        await w.write(bytes.subarray(at, Math.min(size, at + 64 * 1024)));
        if (k === 0 && at < size / 2 && at + 64 * 1024 >= size / 2) await hooks.midLayer?.();
      }
      await w.commit(size, desc.digest);
    }
    layers.push(desc);
  }
  const config = {
    created: `2024-01-0${(j % 9) + 1}T00:00:00Z`,
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { j: String(j) } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  };
  const configDesc = await putBlob(store.content, MediaType.OciConfig, Buffer.from(JSON.stringify(config)), {
    lease: lease.id,
  });
  const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers };
  const m = await putBlob(store.content, MediaType.OciManifest, Buffer.from(JSON.stringify(manifest)), {
    lease: lease.id,
  });
  await store.tag(`localhost:5000/crash/app:${j}`, m);
  await store.tag('localhost:5000/crash/app:latest', m);
  await store.leases.delete(lease.id);
  return { id: configDesc.digest, resumed };
}
