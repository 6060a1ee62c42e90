import { randomBytes } from 'node:crypto';
import { digestOf, isBerthError, parseDigest } from '@berth/oci';
import { type ApplyLayerOptions, type ApplyResult, applyLayer } from './apply.js';
import type { Snapshotter } from './snapshotter.js';

/** Options of {@link unpackLayer}: {@link ApplyLayerOptions} without mounts, plus where. */
export interface UnpackLayerOptions extends Omit<ApplyLayerOptions, 'mounts' | 'diffId'> {
  /** The snapshotter to unpack into. */
  snapshotter: Snapshotter;
  /** Chain ID of the layers below (a committed snapshot), or undefined for a base layer. */
  parent?: string;
  /** The layer's diffID from the image config; the snapshot is committed only if it matches. */
  diffId: string;
}

/** What {@link unpackLayer} did. */
export interface UnpackResult {
  /** The committed snapshot's name: the chain ID of the layer stack. */
  chainId: string;
  /** The apply's measurements, or null when the snapshot already existed. */
  applied: ApplyResult | null;
}

/**
 * Unpacks one layer into a new committed snapshot named by its chain ID (image-spec
 * `ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))`): `prepare` an extraction key on the
 * parent, {@link applyLayer} into it in one streaming pass, verify the diffID, `commit`. On any
 * failure (bad entry, digest mismatch, abort) the extraction snapshot is removed, so nothing of
 * the layer remains. An existing snapshot of the same chain ID is reused without reading the
 * stream (a concurrent unpack of the same layer that loses the race does the same).
 * @throws everything {@link applyLayer} throws, and the snapshotter's errors
 */
export async function unpackLayer(options: UnpackLayerOptions): Promise<UnpackResult> {
  const { snapshotter: sn, parent } = options;
  const diffId = parseDigest(options.diffId, { field: 'rootfs.diff_ids' });
  const chainId = parent === undefined ? diffId : digestOf(`${parent} ${diffId}`);
  const exists = await sn.stat(chainId).then(
    (i) => i.kind === 'committed',
    () => false,
  );
  if (exists) return { chainId, applied: null };
  const key = `extract-${process.pid}-${randomBytes(6).toString('hex')} ${chainId}`;
  const mounts = await sn.prepare(key, parent, options.signal ? { signal: options.signal } : {});
  try {
    const applied = await applyLayer({ ...options, diffId, mounts });
    try {
      await sn.commit(chainId, key, options.signal ? { signal: options.signal } : {});
    } catch (err) {
      if (!isBerthError(err, 'SNAPSHOT_EXISTS')) throw err;
      await sn.remove(key);
      return { chainId, applied: null };
    }
    return { chainId, applied };
  } catch (err) {
    await sn.remove(key).catch(() => undefined);
    throw err;
  }
}
