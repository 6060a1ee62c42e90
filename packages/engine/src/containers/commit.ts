/**
 * `docker commit`: the container's changes become one new layer on top of its image's (the
 * overlay upper dir diffed into a gzip OCI layer by @berth/overlay, berth's mount points left
 * out), with a new config (the container's Cmd, Entrypoint, Env, WorkingDir, User, Labels…,
 * then `--change` instructions) and history entry, stored with a manifest of the same family as
 * the base image's and tagged when a name is given. The layer is unpacked into a committed
 * snapshot at once, so the new image runs without a pull. A running container is paused while
 * its changes are read (docker's default `--pause=true`).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  BerthError,
  type Descriptor,
  type Digest,
  digestOf,
  type ImageConfig,
  type ContainerConfig as ImageContainerConfig,
  MediaType,
  parseImageConfig,
  parseManifest,
  parseReference,
} from '@berth/oci';
import { containerMountpoints, withSnapshotMounts } from './changes.js';
import { invalidOption } from './errors.js';
import type { ServiceInternals } from './internals.js';

/** Options of {@link commitContainer}: docker's `commit` flags. */
export interface CommitOptions {
  /** `REPO[:TAG]`; without it the image is untagged (dangling), as docker's. */
  reference?: string;
  /** `-a`: the image's author. */
  author?: string;
  /** `-m`: the history entry's comment. */
  comment?: string;
  /** `-c`: Dockerfile instructions applied to the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL). */
  changes?: string[];
  /** `--pause` (default true): freeze a running container while its changes are read. */
  pause?: boolean;
  signal?: AbortSignal;
}

/** Splits words as the Dockerfile shell form's arguments: whitespace, `"…"` and `'…'` quoting, `\` escapes. */
function words(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** `key=value` pairs with optional quotes (ENV, LABEL), or the legacy `key value` form. */
function pairs(instr: string, rest: string): [string, string][] {
  const ws = words(rest);
  if (ws.length > 0 && !(ws[0] as string).includes('=')) {
    // ENV key value (one pair, the value is the rest of the line)
    const key = ws[0] as string;
    const value = rest.trim().slice(key.length).trim();
    if (value === '') throw invalidOption('change', `${instr} requires at least one argument`);
    return [[key, words(value).join(' ')]];
  }
  return ws.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalidOption('change', `${instr}: invalid key=value pair ${w}`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** CMD/ENTRYPOINT: JSON exec form, or the shell form run by `/bin/sh -c`. */
function command(instr: string, rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      // not JSON: docker takes it as the shell form
    }
  }
  if (t === '') throw invalidOption('change', `${instr} requires at least one argument`);
  return ['/bin/sh', '-c', t];
}

/**
 * Applies `--change` instructions to a config, as moby's commit does with the Dockerfile
 * parser: each one line, instruction names case-insensitive.
 * @throws INVALID_OPTION naming the instruction (docker: `… is not a valid change command`)
 */
export function applyChanges(config: ImageContainerConfig, changes: readonly string[]): ImageContainerConfig {
  const c: ImageContainerConfig = { ...config };
  for (const change of changes) {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(change);
    if (!m) continue;
    const instr = (m[1] as string).toUpperCase();
    const rest = (m[2] as string).trim();
    switch (instr) {
      case 'CMD':
        c.Cmd = command(instr, rest);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = command(instr, rest);
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs(instr, rest)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(instr, rest)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of words(rest)) {
          const pm = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!pm || Number(pm[1]) > 65535) throw invalidOption('change', `EXPOSE: invalid port ${p}`);
          ports[`${Number(pm[1])}/${(pm[2] ?? 'tcp').toLowerCase()}`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'USER':
        if (rest === '') throw invalidOption('change', 'USER requires exactly one argument');
        c.User = rest;
        break;
      case 'WORKDIR':
        if (rest === '') throw invalidOption('change', 'WORKDIR requires exactly one argument');
        c.WorkingDir = rest.startsWith('/') ? rest : `${(c.WorkingDir ?? '/').replace(/\/$/, '')}/${rest}`;
        break;
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        const list = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : words(rest);
        for (const v of list) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case 'STOPSIGNAL':
        c.StopSignal = rest;
        break;
      default:
        throw invalidOption('change', `${m[1]?.toLowerCase()} is not a valid change command`);
    }
  }
  return c;
}

/** Commits a container to a new image; resolves with the image ID (`sha256:…`). */
export async function commitContainer(
  s: ServiceInternals,
  ref: string,
  o: CommitOptions = {},
): Promise<Digest> {
  const { signal } = o;
  // bad input first: nothing is written for a bad name or change
  let name: string | undefined;
  if (o.reference !== undefined && o.reference !== '') {
    const r = parseReference(o.reference);
    if (r.digest !== undefined)
      throw new BerthError('INVALID_REFERENCE', `refusing to create a tag with a digest reference`, {
        input: { ref: o.reference },
      });
    name = o.reference;
  }
  const ctx = s.ctx;
  const pre = await s.read(ref);
  applyChanges({}, o.changes ?? []); // validates before anything is written
  const [{ diffLayer, unpackLayer }, sn] = await Promise.all([ctx.overlay(), s.snapshotter()]);
  const lease = await ctx.store.leases.create({ expiresIn: 3600 * 1000, labels: { 'berth.commit': pre.Id } });
  try {
    return await s.locked(
      pre.Id,
      async (rec, rt) => {
        const live = await s.liveState(rt, rec);
        const base = await ctx.store.images.record(
          (await ctx.store.images.get(rec.Image, signal ? { signal } : {})).target,
          signal ? { signal } : {},
        );
        const baseConfig = parseImageConfig(
          await ctx.store.content.readBlob(base.config.digest, signal ? { signal } : {}),
        );
        const baseManifest = parseManifest(
          await ctx.store.content.readBlob(base.manifest.digest, signal ? { signal } : {}),
        );
        const docker = base.manifest.mediaType === MediaType.DockerManifest;

        // the layer, read while the container is frozen
        const pause = o.pause !== false && live.Running && !live.Paused;
        if (pause) await rt.pause(rec.Id, signal ? { signal } : {});
        let layer: Descriptor;
        let diffId: Digest;
        try {
          const mountpoints = new Set((await containerMountpoints(s, rec)).map((p) => p.replace(/^\/+/, '')));
          const r = await withSnapshotMounts(s, rec, async (upper, lower) => {
            const d = diffLayer({
              upper,
              ...(lower ? { lower } : {}),
              compression: 'gzip',
              exclude: (p) => mountpoints.has(p),
              ...(signal ? { signal } : {}),
            });
            // to a scratch file first: the store's writer wants the digest up front
            const tmp = join(ctx.tmpDir, `commit-${rec.Id}-${randomBytes(4).toString('hex')}.tar.gz`);
            try {
              await pipeline(d.stream, createWriteStream(tmp, { mode: 0o600 }));
              const res = await d.result;
              const desc: Descriptor = {
                mediaType: docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip,
                digest: res.digest as Digest,
                size: res.size,
              };
              const w = await ctx.store.writer({ ref: `commit-${res.digest}`, desc, lease: lease.id });
              try {
                for await (const chunk of createReadStream(tmp)) await w.write(chunk as Buffer);
                await w.commit(desc.size, desc.digest);
              } catch (err) {
                await w.abort().catch(() => undefined);
                throw err;
              }
              return { desc, diffId: res.diffId as Digest };
            } finally {
              await rm(tmp, { force: true });
            }
          });
          layer = r.desc;
          diffId = r.diffId;
        } finally {
          if (pause) await rt.resume(rec.Id).catch(() => {});
        }

        // the config: the container's settings, then --change
        const now = new Date().toISOString();
        const cc = rec.Config;
        const fromContainer: ImageContainerConfig = {
          ...(baseConfig.config ?? {}),
          Env: cc.Env,
          Cmd: cc.Cmd ?? [],
          Entrypoint: cc.Entrypoint ?? [],
          WorkingDir: cc.WorkingDir,
          User: cc.User,
          Labels: cc.Labels,
          ...(cc.StopSignal ? { StopSignal: cc.StopSignal } : {}),
        };
        if (!cc.Cmd) delete fromContainer.Cmd;
        if (!cc.Entrypoint) delete fromContainer.Entrypoint;
        const config: ImageConfig & { container?: string; comment?: string } = {
          ...baseConfig,
          created: now,
          ...(o.author ? { author: o.author } : {}),
          config: applyChanges(fromContainer, o.changes ?? []),
          container: rec.Id,
          rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, diffId] },
          history: [
            ...(baseConfig.history ?? []),
            {
              created: now,
              ...(o.author ? { author: o.author } : {}),
              created_by: (cc.Cmd ?? []).join(' '),
              ...(o.comment ? { comment: o.comment } : {}),
            },
          ],
        };
        if (o.comment) config.comment = o.comment;
        else delete config.comment;
        const configBytes = Buffer.from(JSON.stringify(config));
        const configDesc: Descriptor = {
          mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig,
          digest: digestOf(configBytes),
          size: configBytes.length,
        };
        const manifest = {
          schemaVersion: 2,
          mediaType: docker ? MediaType.DockerManifest : MediaType.OciManifest,
          config: configDesc,
          layers: [...baseManifest.layers, layer],
        };
        const manifestBytes = Buffer.from(JSON.stringify(manifest));
        const manifestDesc: Descriptor = {
          mediaType: manifest.mediaType,
          digest: digestOf(manifestBytes),
          size: manifestBytes.length,
        };
        for (const [d, bytes] of [
          [configDesc, configBytes],
          [manifestDesc, manifestBytes],
        ] as const) {
          const w = await ctx.store.writer({ ref: `commit-${d.digest}`, desc: d, lease: lease.id });
          try {
            await w.write(bytes);
            await w.commit(d.size, d.digest);
          } catch (err) {
            await w.abort().catch(() => undefined);
            throw err;
          }
        }

        // the snapshot the new image's containers start from
        const parent = rec.Snapshot.parent ?? undefined;
        const stream = await ctx.store.content.createReadStream(layer.digest, signal ? { signal } : {});
        try {
          const { chainId } = await unpackLayer({
            snapshotter: sn,
            ...(parent ? { parent } : {}),
            diffId,
            stream,
            mediaType: layer.mediaType,
            digest: layer.digest,
            logger: ctx.logger,
            ...(signal ? { signal } : {}),
          });
          await ctx.store.leases.addResource(lease.id, { type: 'snapshot', key: chainId });
        } finally {
          stream.destroy();
        }

        if (name) await ctx.store.images.tag(name, manifestDesc, signal ? { signal } : {});
        else {
          // an untagged image: the store keeps an unnamed entry once its name goes (as load does)
          const temp = `berth.invalid/commit-${randomBytes(8).toString('hex')}:tmp`;
          await ctx.store.images.tag(temp, manifestDesc, signal ? { signal } : {});
          await ctx.store.images.untag(temp, signal ? { signal } : {});
        }
        await s.event(rec, 'commit', {
          comment: o.comment ?? '',
          imageID: configDesc.digest,
          imageRef: name ?? '',
        });
        return configDesc.digest;
      },
      signal,
    );
  } finally {
    await ctx.store.leases.delete(lease.id).catch(() => undefined);
  }
}
