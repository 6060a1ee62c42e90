/**
 * The registry side of the image service besides pull: push from the store, and docker's
 * login/logout (credentials checked against `/v2/` first, then kept in the docker config).
 */
import type { Readable } from 'node:stream';
import {
  BerthError,
  type Descriptor,
  type Digest,
  formatReference,
  parseReference,
  withDefaultTag,
} from '@berth/oci';
import type { ClientPushSource } from '@berth/registry';
import type { EngineContext } from './context.js';
import { noSuchImage } from './errors.js';
import { type ImageProgressHandler, progress, shortId } from './progress.js';

/** Options of {@link ImageService.push}. */
export interface PushImageOptions {
  onProgress?: ImageProgressHandler;
  signal?: AbortSignal;
}

/** What a push did. */
export interface PushImageResult {
  /** Full normalised reference pushed. */
  reference: string;
  /** The tag (or digest) pushed. */
  tag: string;
  /** The registry's digest of the pushed manifest or index. */
  digest: Digest;
  /** Its size. */
  size: number;
}

/** `docker push NAME[:TAG]`. */
export async function pushImage(
  ctx: EngineContext,
  input: string,
  opts: PushImageOptions = {},
): Promise<PushImageResult> {
  const emit = opts.onProgress ?? (() => {});
  const signal = opts.signal;
  const ref = withDefaultTag(parseReference(input));
  const full = formatReference(ref);
  const entries = await ctx.store.images.entries(signal ? { signal } : {});
  const entry = entries.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === full);
  if (entry === undefined) {
    throw new BerthError('IMAGE_NOT_FOUND', `An image does not exist locally with the tag: ${input}`, {
      input: { ref: input },
      cause: noSuchImage(input),
    });
  }
  // An index whose platforms are not all here is pushed as the platform's manifest.
  let desc: Descriptor = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
  const record = await ctx.store.images.record(desc, signal ? { signal } : {});
  if (record.manifest.digest !== desc.digest) {
    const doc = JSON.parse((await ctx.store.content.readBlob(desc.digest)).toString('utf8')) as {
      manifests?: Descriptor[];
    };
    for (const m of doc.manifests ?? []) {
      if ((await ctx.store.info(m.digest)) === undefined) {
        desc = record.manifest;
        break;
      }
    }
  }
  const content = ctx.store.content;
  const source: ClientPushSource = {
    open: (digest, o = {}) => content.createReadStream(digest, o) as Promise<Readable>,
    readBlob: async (d, o = {}) => content.readBlob(d.digest, o.signal ? { signal: o.signal } : {}),
  };
  emit(progress(`The push refers to repository [${ref.registry}/${ref.repository}]`));
  const result = await (await ctx.registry()).push(ref, source, {
    descriptor: desc,
    ...(signal ? { signal } : {}),
    onProgress: (e) => {
      if (e.type !== 'blob' || e.kind !== 'layer') return;
      const id = shortId(e.digest);
      if (e.phase === 'waiting') emit(progress('Preparing', id));
      else if (e.phase === 'uploading') emit(progress('Pushing', id, e.current, e.total));
      else if (e.phase === 'done') emit(progress('Pushed', id));
      else if (e.phase === 'exists') emit(progress('Layer already exists', id));
      else if (e.phase === 'mounted') emit(progress(`Mounted from ${e.from ?? ''}`, id));
    },
  });
  const tag = ref.tag ?? ref.digest ?? 'latest';
  emit(progress(`${tag}: digest: ${result.digest} size: ${result.descriptor.size}`));
  return { reference: full, tag, digest: result.digest, size: result.descriptor.size };
}

/** Options of {@link ImageService.login}. */
export interface LoginOptions {
  /** Registry host; default `docker.io`. */
  registry?: string;
  username: string;
  password: string;
  signal?: AbortSignal;
}

/** Normalises docker's server argument (`https://index.docker.io/v1/`, `localhost:5000/`) to a host. */
export function registryHost(server: string | undefined): string {
  if (server === undefined || server === '') return 'docker.io';
  let s = server.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (s === 'index.docker.io' || s === 'registry-1.docker.io') s = 'docker.io';
  return s;
}

/** `docker login`: checks the credentials against the registry, then stores them. */
export async function login(ctx: EngineContext, opts: LoginOptions): Promise<{ status: 'Login Succeeded' }> {
  const registry = registryHost(opts.registry);
  await (await ctx.registry()).checkLogin({
    registry,
    username: opts.username,
    password: opts.password,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  await (await ctx.registryModule()).login({
    registry,
    username: opts.username,
    password: opts.password,
    logger: ctx.logger,
    ...(ctx.dockerConfigDir === undefined ? {} : { dir: ctx.dockerConfigDir }),
    ...(ctx.helperEnv === undefined ? {} : { helperEnv: ctx.helperEnv }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { status: 'Login Succeeded' };
}

/** `docker logout`: forgets the credentials; says whether there were any. */
export async function logout(
  ctx: EngineContext,
  server?: string,
): Promise<{ registry: string; removed: boolean }> {
  const registry = registryHost(server);
  const r = await (await ctx.registryModule()).logout({
    registry,
    logger: ctx.logger,
    ...(ctx.dockerConfigDir === undefined ? {} : { dir: ctx.dockerConfigDir }),
    ...(ctx.helperEnv === undefined ? {} : { helperEnv: ctx.helperEnv }),
  });
  return { registry, removed: r.removed };
}
