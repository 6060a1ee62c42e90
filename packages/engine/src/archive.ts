/**
 * `save` and `load`: docker-archive tarballs (what `docker save` writes: an OCI layout plus the
 * legacy `manifest.json` and `repositories`; older ones with `<id>/layer.tar`) and OCI layout
 * tarballs. A loaded tar is hostile input: only regular files, directories and links whose
 * names stay inside the archive are accepted; every `blobs/<alg>/<hex>` file must hash to its
 * name; configs and layers are verified against the config's diff IDs while unpacking.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { type Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BerthError,
  chainIds,
  type Descriptor,
  type Digest,
  familiarReference,
  formatReference,
  type ImageConfig,
  isBerthError,
  MAX_DOCUMENT_BYTES,
  MediaType,
  parseImageConfig,
  parseImageDocument,
  parseReference,
  selectManifest,
} from '@berth/oci';
import type { Image } from '@berth/store';
import tar from 'tar-stream';
import type { EngineContext } from './context.js';
import { archiveInvalid, EngineErrorCode } from './errors.js';
import { familiar, getImage } from './images.js';
import { type ImageProgressHandler, progress, shortId } from './progress.js';

/** Options of {@link ImageService.save}. */
export interface SaveImageOptions {
  /** Where the tar goes (a file stream or stdout); save does not end it. */
  output: Writable;
  /** `docker` (default): docker-archive as docker 25+ writes it; `oci`: an OCI image layout. */
  format?: 'docker' | 'oci';
  signal?: AbortSignal;
}

/** Options of {@link ImageService.load}. */
export interface LoadImageOptions {
  /** The tar stream. */
  input: Readable;
  onProgress?: ImageProgressHandler;
  signal?: AbortSignal;
}

/** What `load` stored. */
export interface LoadImageResult {
  /** One line per image as docker prints: `Loaded image: busybox:latest` or `Loaded image ID: sha256:…`. */
  messages: string[];
  /** Image IDs loaded. */
  ids: Digest[];
  /** Familiar tags loaded. */
  tags: string[];
}

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const MAX_ENTRIES = 200_000;
const MEMORY_LIMIT = 1024 * 1024;
const EPOCH = new Date(0);

const hexOf = (d: string): string => d.slice(d.indexOf(':') + 1);

// ---------------------------------------------------------------------------------------- save

interface SaveItem {
  img: Image;
  names: string[];
}

async function writeEntry(
  pack: tar.Pack,
  name: string,
  body: Buffer | { path: string; size: number },
): Promise<void> {
  if (Buffer.isBuffer(body)) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: body.byteLength, mode: 0o644, mtime: EPOCH }, body, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    return;
  }
  const entry = pack.entry({ name, size: body.size, mode: 0o644, mtime: EPOCH });
  await pipeline(createReadStream(body.path), entry);
}

function dirEntry(pack: tar.Pack, name: string): void {
  pack.entry({ name, type: 'directory', mode: 0o755, mtime: EPOCH });
}

/** Decompresses a stored layer into a temp file, verifying it against its diff ID. */
async function uncompressedLayer(
  ctx: EngineContext,
  layer: Descriptor,
  diffId: string,
  dir: string,
  signal?: AbortSignal,
): Promise<{ path: string; size: number }> {
  const reader = await ctx.store.content.readerAt(layer.digest, signal ? { signal } : {});
  let head: Buffer;
  try {
    head = await reader.readAt(0, 6);
  } finally {
    await reader.close();
  }
  const path = join(dir, hexOf(layer.digest));
  const overlay = await ctx.overlay();
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.byteLength;
      cb(null, chunk);
    },
  });
  await pipeline(
    await ctx.store.content.createReadStream(layer.digest, signal ? { signal } : {}),
    overlay.createDecompressor(overlay.sniffCompression(head)),
    counter,
    createWriteStream(path),
    ...(signal ? [{ signal }] : []),
  );
  const got = `sha256:${hash.digest('hex')}`;
  if (got !== diffId) {
    throw new BerthError(
      EngineErrorCode.LAYER_DIFF_ID_MISMATCH,
      `save: layer ${layer.digest}: uncompressed digest ${got}, the config says ${diffId}`,
      { input: { field: layer.digest } },
    );
  }
  return { path, size };
}

/** `docker save`. */
export async function saveImages(ctx: EngineContext, refs: string[], opts: SaveImageOptions): Promise<void> {
  const { signal } = opts;
  if (refs.length === 0) throw new BerthError(EngineErrorCode.NOTHING_TO_SAVE, 'save: no images given');
  const byId = new Map<string, SaveItem>();
  for (const r of refs) {
    const img = await getImage(ctx, r, signal);
    const item = byId.get(img.id) ?? { img, names: [] };
    byId.set(img.id, item);
    const isId =
      /^(?:sha256:)?[a-f0-9]{1,64}$/.test(r) &&
      img.id.startsWith(r.startsWith('sha256:') ? r : `sha256:${r}`);
    if (isId) continue;
    const ref = parseReference(r);
    if (ref.digest !== undefined) continue;
    const full = formatReference({ ...ref, tag: ref.tag ?? 'latest' });
    if (!item.names.includes(full)) item.names.push(full);
  }
  const tmp = await mkdtemp(join(ctx.tmpDir, 'save-'));
  const pack = tar.pack();
  const out = opts.output;
  // pumped by hand: the output (stdout, a file) is not ended by save
  const done = (async () => {
    for await (const chunk of pack) {
      signal?.throwIfAborted();
      if (!out.write(chunk as Buffer)) await once(out, 'drain', signal ? { signal } : {});
    }
  })();
  done.catch(() => undefined);
  try {
    const written = new Set<string>();
    const tarSizes = new Map<string, number>();
    const blob = async (digest: string, body: Buffer | { path: string; size: number }) => {
      if (written.has(digest)) return;
      written.add(digest);
      await writeEntry(pack, `blobs/sha256/${hexOf(digest)}`, body);
    };
    dirEntry(pack, 'blobs/');
    dirEntry(pack, 'blobs/sha256/');
    const index: Descriptor[] = [];
    const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const { img, names } of byId.values()) {
      const configBytes = await ctx.store.content.readBlob(img.config.digest, signal ? { signal } : {});
      const config = parseImageConfig(configBytes);
      let manifestDesc: Descriptor;
      if (opts.format === 'oci') {
        for (const l of img.layers) {
          const p = join(ctx.store.content.path, 'blobs', 'sha256', hexOf(l.digest));
          await blob(l.digest, { path: p, size: l.size });
        }
        await blob(img.config.digest, configBytes);
        const mbytes = await ctx.store.content.readBlob(img.manifest.digest, signal ? { signal } : {});
        await blob(img.manifest.digest, mbytes);
        manifestDesc = {
          mediaType: img.manifest.mediaType,
          digest: img.manifest.digest,
          size: img.manifest.size,
        };
      } else {
        const layers: Descriptor[] = [];
        for (const [i, l] of img.layers.entries()) {
          const diffId = config.rootfs.diff_ids[i] as string;
          let size = tarSizes.get(diffId);
          if (size === undefined) {
            const u = await uncompressedLayer(ctx, l, diffId, tmp, signal);
            await blob(diffId, u);
            size = u.size;
            tarSizes.set(diffId, size);
          }
          layers.push({ mediaType: MediaType.OciLayer, digest: diffId as Digest, size });
        }
        await blob(img.config.digest, configBytes);
        const manifest = {
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          config: { mediaType: MediaType.OciConfig, digest: img.config.digest, size: img.config.size },
          layers,
        };
        const mbytes = Buffer.from(JSON.stringify(manifest));
        const digest = `sha256:${createHash('sha256').update(mbytes).digest('hex')}` as Digest;
        await blob(digest, mbytes);
        manifestDesc = { mediaType: MediaType.OciManifest, digest, size: mbytes.byteLength };
        manifestJson.push({
          Config: `blobs/sha256/${hexOf(img.config.digest)}`,
          RepoTags: names.length === 0 ? null : names.map(familiar),
          Layers: config.rootfs.diff_ids.map((d) => `blobs/sha256/${hexOf(d)}`),
        });
        const top = config.rootfs.diff_ids.at(-1);
        for (const n of names) {
          const r = parseReference(n);
          const repo = familiarReference({ ...r, tag: undefined } as typeof r);
          repositories[repo] = {
            ...repositories[repo],
            [r.tag ?? 'latest']: top === undefined ? '' : hexOf(top),
          };
        }
      }
      if (names.length === 0) index.push(manifestDesc);
      for (const n of names) {
        index.push({
          ...manifestDesc,
          annotations: {
            [CONTAINERD_NAME]: n,
            [REF_NAME]: opts.format === 'oci' ? n : (parseReference(n).tag ?? 'latest'),
          },
        });
      }
    }
    await writeEntry(
      pack,
      'index.json',
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: index })),
    );
    if (opts.format !== 'oci') {
      await writeEntry(pack, 'manifest.json', Buffer.from(JSON.stringify(manifestJson)));
      if (Object.keys(repositories).length > 0)
        await writeEntry(pack, 'repositories', Buffer.from(JSON.stringify(repositories)));
    }
    await writeEntry(pack, 'oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    pack.finalize();
    await done;
  } catch (err) {
    pack.destroy();
    throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------- load

interface ArchiveFile {
  digest: Digest;
  size: number;
  data?: Buffer;
  path?: string;
  head: Buffer;
}

/** An entry name made safe: relative, normalised, inside the archive. */
export function cleanArchivePath(name: string): string {
  if (typeof name !== 'string' || name === '' || name.includes('\0'))
    throw archiveInvalid(String(name), 'invalid name');
  if (name.startsWith('/')) throw archiveInvalid(name, 'absolute path');
  if (name.split('/').includes('..')) throw archiveInvalid(name, 'path escapes the archive');
  const n = posix.normalize(name).replace(/\/+$/, '');
  if (n === '.' || n === '') return '.';
  return n.replace(/^\.\//, '');
}

async function readArchive(
  input: Readable,
  tmp: string,
  signal?: AbortSignal,
): Promise<{ files: Map<string, ArchiveFile>; links: Map<string, string> }> {
  const files = new Map<string, ArchiveFile>();
  const links = new Map<string, string>();
  const extract = tar.extract();
  const reading = pipeline(input, extract, ...(signal ? [{ signal }] : [])).catch((err) => {
    extract.destroy(err);
  });
  let n = 0;
  for await (const entry of extract) {
    if (++n > MAX_ENTRIES) throw archiveInvalid(entry.header.name, `more than ${MAX_ENTRIES} entries`);
    const h = entry.header;
    const name = cleanArchivePath(h.name);
    if (files.has(name) || links.has(name)) throw archiveInvalid(h.name, 'duplicate entry');
    if (h.type === 'directory') {
      entry.resume();
      continue;
    }
    if (h.type === 'symlink' || h.type === 'link') {
      const target = h.linkname ?? '';
      const joined =
        h.type === 'symlink' && !target.startsWith('/') ? posix.join(posix.dirname(name), target) : target;
      links.set(name, cleanArchivePath(joined.replace(/^\/+/, '')));
      entry.resume();
      continue;
    }
    if (h.type !== 'file' && h.type !== 'contiguous-file')
      throw archiveInvalid(h.name, `unsupported entry type ${h.type}`);
    const size = h.size ?? 0;
    const hash = createHash('sha256');
    let head = Buffer.alloc(0);
    let got = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        if (head.byteLength < 6) head = Buffer.concat([head, chunk.subarray(0, 6 - head.byteLength)]);
        got += chunk.byteLength;
        cb(null, chunk);
      },
    });
    const file: ArchiveFile = { digest: 'sha256:' as Digest, size, head };
    if (size <= MEMORY_LIMIT) {
      const chunks: Buffer[] = [];
      for await (const c of entry.pipe(meter)) chunks.push(c as Buffer);
      file.data = Buffer.concat(chunks);
    } else {
      file.path = join(tmp, `f${n}`);
      await pipeline(entry, meter, createWriteStream(file.path, { flags: 'wx', mode: 0o600 }));
    }
    if (got !== size) throw archiveInvalid(h.name, `holds ${got} bytes, its header says ${size}`);
    file.digest = `sha256:${hash.digest('hex')}` as Digest;
    file.head = head;
    const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(name);
    if (m !== null && `${m[1]}:${m[2]}` !== file.digest) {
      throw new BerthError(
        EngineErrorCode.ARCHIVE_DIGEST_MISMATCH,
        `load: archive entry ${JSON.stringify(name)}: content digest is ${file.digest}`,
        { input: { field: name } },
      );
    }
    files.set(name, file);
  }
  await reading;
  return { files, links };
}

function lookup(files: Map<string, ArchiveFile>, links: Map<string, string>, name: string): ArchiveFile {
  let n = cleanArchivePath(name);
  for (let hops = 0; hops < 16; hops++) {
    const f = files.get(n);
    if (f !== undefined) return f;
    const next = links.get(n);
    if (next === undefined) break;
    n = next;
  }
  throw archiveInvalid(name, 'not in the archive');
}

async function bytesOf(f: ArchiveFile, what: string): Promise<Buffer> {
  if (f.data === undefined || f.size > MAX_DOCUMENT_BYTES)
    throw archiveInvalid(what, 'too large for a document');
  return f.data;
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw archiveInvalid(what, 'not valid JSON', cause);
  }
}

/** The layer media type from the magic bytes (the unpacker sniffs again and verifies). */
function layerMediaType(head: Buffer): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return MediaType.OciLayerGzip;
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)
    return MediaType.OciLayerZstd;
  return MediaType.OciLayer;
}

interface Planned {
  /** Blobs to store (documents last). */
  blobs: { desc: Descriptor; file?: ArchiveFile; data?: Buffer }[];
  target: Descriptor;
  config: ImageConfig;
  configDigest: Digest;
  layers: { desc: Descriptor; file: ArchiveFile }[];
  names: string[];
}

function nameOk(n: string): string | undefined {
  try {
    const r = parseReference(n);
    return r.tag === undefined && r.digest === undefined ? undefined : formatReference(r);
  } catch {
    return undefined;
  }
}

async function planDockerArchive(
  files: Map<string, ArchiveFile>,
  links: Map<string, string>,
): Promise<Planned[]> {
  const list = parseJson(
    await bytesOf(lookup(files, links, 'manifest.json'), 'manifest.json'),
    'manifest.json',
  );
  if (!Array.isArray(list)) throw archiveInvalid('manifest.json', 'not a list');
  const out: Planned[] = [];
  for (const [i, item] of list.entries()) {
    const where = `manifest.json[${i}]`;
    if (typeof item !== 'object' || item === null) throw archiveInvalid(where, 'not an object');
    const { Config, RepoTags, Layers } = item as Record<string, unknown>;
    if (typeof Config !== 'string') throw archiveInvalid(`${where}.Config`, 'not a string');
    if (!Array.isArray(Layers) || !Layers.every((l) => typeof l === 'string'))
      throw archiveInvalid(`${where}.Layers`, 'not a list of paths');
    if (RepoTags != null && (!Array.isArray(RepoTags) || !RepoTags.every((t) => typeof t === 'string')))
      throw archiveInvalid(`${where}.RepoTags`, 'not a list of names');
    const cf = lookup(files, links, Config);
    const config = parseImageConfig(await bytesOf(cf, Config));
    if (config.rootfs.diff_ids.length !== Layers.length) {
      throw archiveInvalid(
        `${where}.Layers`,
        `${Layers.length} layers, the config has ${config.rootfs.diff_ids.length} diff IDs`,
      );
    }
    const layers = (Layers as string[]).map((p) => {
      const file = lookup(files, links, p);
      return { desc: { mediaType: layerMediaType(file.head), digest: file.digest, size: file.size }, file };
    });
    const configDesc: Descriptor = { mediaType: MediaType.OciConfig, digest: cf.digest, size: cf.size };
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: configDesc,
        layers: layers.map((l) => l.desc),
      }),
    );
    const target: Descriptor = {
      mediaType: MediaType.OciManifest,
      digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}` as Digest,
      size: manifest.byteLength,
    };
    const names = ((RepoTags as string[] | null) ?? []).map((t) => {
      const n = nameOk(t);
      if (n === undefined) throw archiveInvalid(`${where}.RepoTags`, `invalid name ${JSON.stringify(t)}`);
      return n;
    });
    out.push({
      blobs: [...layers, { desc: configDesc, file: cf }, { desc: target, data: manifest }],
      target,
      config,
      configDigest: cf.digest,
      layers,
      names,
    });
  }
  return out;
}

async function planOciLayout(
  files: Map<string, ArchiveFile>,
  links: Map<string, string>,
): Promise<Planned[]> {
  const blobFile = (d: string): ArchiveFile => lookup(files, links, `blobs/${d.replace(':', '/')}`);
  const indexBytes = await bytesOf(lookup(files, links, 'index.json'), 'index.json');
  const top = parseImageDocument(indexBytes, MediaType.OciIndex);
  if (top.kind !== 'index') throw archiveInvalid('index.json', 'not an image index');
  const out: Planned[] = [];
  for (const entry of top.index.manifests) {
    const docs: { desc: Descriptor; file: ArchiveFile }[] = [];
    let desc: Descriptor = entry;
    let manifest:
      | Extract<ReturnType<typeof parseImageDocument>, { kind: 'manifest' }>['manifest']
      | undefined;
    for (let depth = 0; depth < 5 && manifest === undefined; depth++) {
      const f = blobFile(desc.digest);
      if (f.size !== desc.size)
        throw archiveInvalid(`blobs/${desc.digest}`, `size ${f.size}, the descriptor says ${desc.size}`);
      const doc = parseImageDocument(await bytesOf(f, desc.digest), desc.mediaType);
      docs.push({ desc: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, file: f });
      if (doc.kind === 'manifest') manifest = doc.manifest;
      else if (doc.kind === 'index') {
        const chosen =
          selectManifest(doc.index) ??
          doc.index.manifests.find((m) => files.has(`blobs/${m.digest.replace(':', '/')}`));
        if (chosen === undefined)
          throw archiveInvalid(`blobs/${desc.digest}`, 'no manifest of the index is in the archive');
        desc = chosen;
      } else throw archiveInvalid(`blobs/${desc.digest}`, `a ${doc.kind} is not an image`);
    }
    if (manifest === undefined) throw archiveInvalid('index.json', 'indexes nested too deeply');
    const cf = blobFile(manifest.config.digest);
    const config = parseImageConfig(await bytesOf(cf, manifest.config.digest));
    if (config.rootfs.diff_ids.length !== manifest.layers.length)
      throw archiveInvalid(`blobs/${desc.digest}`, 'layer count differs from the config');
    const layers = manifest.layers.map((l) => {
      const file = blobFile(l.digest);
      if (file.size !== l.size)
        throw archiveInvalid(`blobs/${l.digest}`, `size ${file.size}, the manifest says ${l.size}`);
      return { desc: l, file };
    });
    const names: string[] = [];
    for (const k of [CONTAINERD_NAME, REF_NAME]) {
      const n = entry.annotations?.[k];
      if (n !== undefined && (n.includes(':') || n.includes('/'))) {
        const full = nameOk(n);
        if (full !== undefined) {
          names.push(full);
          break;
        }
      }
    }
    const root = docs[0] as { desc: Descriptor; file: ArchiveFile };
    out.push({
      blobs: [...layers, { desc: manifest.config, file: cf }, ...[...docs].reverse()],
      target: root.desc,
      config,
      configDigest: manifest.config.digest,
      layers,
      names,
    });
  }
  return out;
}

async function storeBlob(
  ctx: EngineContext,
  lease: string,
  desc: Descriptor,
  body: { file?: ArchiveFile; data?: Buffer },
  signal?: AbortSignal,
): Promise<void> {
  if ((await ctx.store.info(desc.digest))?.size === desc.size) return;
  const w = await ctx.store.writer({
    ref: `load-${desc.digest}-${randomBytes(4).toString('hex')}`,
    desc,
    lease,
    ...(signal ? { signal } : {}),
  });
  try {
    const data = body.data ?? body.file?.data;
    if (data !== undefined) await w.write(data);
    else if (body.file?.path !== undefined) {
      for await (const chunk of createReadStream(body.file.path)) await w.write(chunk as Buffer);
    }
    await w.commit(desc.size, desc.digest);
  } catch (err) {
    await w.abort().catch(() => undefined);
    throw err;
  }
}

/** `docker load`. */
export async function loadImages(ctx: EngineContext, opts: LoadImageOptions): Promise<LoadImageResult> {
  const { signal } = opts;
  const emit = opts.onProgress ?? (() => {});
  const tmp = await mkdtemp(join(ctx.tmpDir, 'load-'));
  const lease = await ctx.store.leases.create({
    expiresIn: 24 * 3600 * 1000,
    labels: { 'berth.load': 'true' },
  });
  try {
    const { files, links } = await readArchive(opts.input, tmp, signal);
    const has = (n: string) => files.has(n) || links.has(n);
    let plans: Planned[];
    if (has('manifest.json')) plans = await planDockerArchive(files, links);
    else if (has('index.json')) plans = await planOciLayout(files, links);
    else throw archiveInvalid('manifest.json', 'neither manifest.json nor index.json is in the archive');
    const result: LoadImageResult = { messages: [], ids: [], tags: [] };
    const [sn, { unpackLayer }] = await Promise.all([ctx.snapshotter(), ctx.overlay()]);
    // names are recorded together at the end (one index.json and records write for the whole
    // archive, not one per image: loading 200 images rewrote both files 200 times)
    const names: { name: string; desc: Descriptor }[] = [];
    const leased = new Set<string>();
    for (const plan of plans) {
      for (const b of plan.blobs) await storeBlob(ctx, lease.id, b.desc, b, signal);
      const diffIds = plan.config.rootfs.diff_ids;
      const chains = chainIds(diffIds);
      for (const [i, l] of plan.layers.entries()) {
        const chain = chains[i] as string;
        if (!leased.has(chain))
          await ctx.store.leases.addResource(lease.id, { type: 'snapshot', key: chain });
        leased.add(chain);
        const present = await sn.stat(chain).then(
          (s) => s.kind === 'committed',
          () => false,
        );
        if (!present) {
          const stream = await ctx.store.content.createReadStream(l.desc.digest, signal ? { signal } : {});
          try {
            await unpackLayer({
              snapshotter: sn,
              ...(i > 0 ? { parent: chains[i - 1] as string } : {}),
              diffId: diffIds[i] as string,
              stream,
              mediaType: l.desc.mediaType,
              digest: l.desc.digest,
              logger: ctx.logger,
              ...(signal ? { signal } : {}),
            });
          } finally {
            stream.destroy();
          }
        }
        emit(progress('Loading layer', shortId(l.desc.digest), l.desc.size, l.desc.size));
      }
      if (plan.names.length === 0) {
        // docker keeps an untagged image; the store keeps an unnamed entry when a name goes
        const temp = `berth.invalid/load-${randomBytes(8).toString('hex')}:tmp`;
        await ctx.store.images.tag(temp, plan.target, signal ? { signal } : {});
        await ctx.store.images.untag(temp, signal ? { signal } : {});
        result.messages.push(`Loaded image ID: ${plan.configDigest}`);
      }
      for (const n of plan.names) {
        names.push({ name: n, desc: plan.target });
        result.messages.push(`Loaded image: ${familiar(n)}`);
        result.tags.push(familiar(n));
      }
      result.ids.push(plan.configDigest);
    }
    await ctx.store.images.tagAll(names, signal ? { signal } : {});
    return result;
  } catch (err) {
    if (isBerthError(err)) throw err;
    throw archiveInvalid('(archive)', (err as Error).message, err);
  } finally {
    await ctx.store.leases.delete(lease.id).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}
