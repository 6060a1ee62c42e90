// Test support (not exported): layer blobs of a fixture image.
import { createReadStream } from 'node:fs';
import type { FixtureImage } from '@berth/fixtures';

/** A layer of a fixture variant: its blob stream opener and descriptor facts. */
export interface FixtureLayer {
  open: () => NodeJS.ReadableStream;
  path: string;
  mediaType: string;
  digest: string;
  diffId: string;
}

/** The layers of `image`'s gzip or zstd variant (single-platform images). */
export function fixtureLayers(image: FixtureImage, variant: 'gzip' | 'zstd'): FixtureLayer[] {
  const info = image[variant];
  if (info.kind !== 'manifest') throw new Error(`${image.name}: not a single manifest`);
  return info.layers.map((l) => {
    const path = `${image.layout}/blobs/sha256/${l.digest.slice('sha256:'.length)}`;
    return {
      open: () => createReadStream(path),
      path,
      mediaType: l.mediaType,
      digest: l.digest,
      diffId: l.diffId,
    };
  });
}
