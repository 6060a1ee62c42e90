import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BerthError, type LayerCompression, type Logger, layerCompression } from '@berth/oci';
import { Decompress } from 'fzstd';

/** The compressions berth unpacks. */
export type Compression = 'none' | 'gzip' | 'zstd';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const OTHERS: [string, number[]][] = [
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
];

const startsWith = (b: Uint8Array, magic: number[]): boolean =>
  b.byteLength >= magic.length && magic.every((m, i) => b[i] === m);

/** Bytes {@link sniffCompression} needs to decide. */
export const SNIFF_BYTES = 6;

/**
 * Tells a layer's compression from its first bytes (docker's `DecompressStream` does the same):
 * gzip `1f 8b`, zstd `28 b5 2f fd`, anything else is taken as a plain tar (whose first bytes are a
 * file name). Throws `LAYER_UNSUPPORTED_COMPRESSION` for bzip2 and xz, which OCI layers never use.
 * @param head - at least {@link SNIFF_BYTES} bytes, or the whole layer if shorter
 */
export function sniffCompression(head: Uint8Array): Compression {
  if (startsWith(head, GZIP)) return 'gzip';
  if (startsWith(head, ZSTD)) return 'zstd';
  for (const [name, magic] of OTHERS) {
    if (startsWith(head, magic)) {
      throw new BerthError('LAYER_UNSUPPORTED_COMPRESSION', `layer: ${name} compression is not supported`, {
        input: { field: 'compression' },
      });
    }
  }
  return 'none';
}

/**
 * Decides the compression from the sniffed bytes and the descriptor's media type. The bytes win
 * (a registry that labels a gzip layer as plain tar still unpacks, as with docker); a
 * disagreement is logged.
 */
export function decideCompression(
  head: Uint8Array,
  mediaType: string | undefined,
  logger: Logger,
): Compression {
  const sniffed = sniffCompression(head);
  const declared: LayerCompression | undefined = layerCompression(mediaType);
  if (declared !== undefined && declared !== sniffed) {
    logger.warn('layer compression differs from its media type; using the content', {
      mediaType,
      declared,
      sniffed,
    });
  }
  return sniffed;
}

/** A zstd decoding `Transform` over fzstd (pure JS, streaming; see README for why). */
class ZstdDecoder extends Transform {
  private readonly decoder = new Decompress((chunk) => {
    if (chunk.byteLength > 0) this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.decoder.push(chunk);
      cb();
    } catch (err) {
      cb(corrupt('zstd', err));
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(corrupt('zstd', err));
    }
  }
}

/** A `LAYER_INVALID_TAR` error for a corrupt compressed stream, keeping the decoder's error. */
export const corrupt = (kind: string, cause: unknown): BerthError =>
  new BerthError('LAYER_INVALID_TAR', `layer: corrupt ${kind} stream`, {
    input: { field: 'compression' },
    cause,
  });

/**
 * A decompressing `Transform` for a compression; `none` passes bytes through. Decoder errors
 * become `LAYER_INVALID_TAR`.
 */
export function createDecompressor(compression: Compression): Transform {
  switch (compression) {
    case 'gzip':
      // zlib's errors (`Z_DATA_ERROR`…) are mapped to LAYER_INVALID_TAR by the caller
      return createGunzip({ chunkSize: 256 * 1024 });
    case 'zstd':
      return new ZstdDecoder();
    case 'none':
      return new Transform({
        transform(chunk, _enc, cb) {
          cb(null, chunk);
        },
      });
  }
}
