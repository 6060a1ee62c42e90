import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';
import { BerthError, type LayerCompression, type Logger, layerCompression } from '@berth/oci';
import type { Decompress } from 'fzstd';

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

let zlibModule: typeof import('node:zlib') | undefined;

/**
 * node:zlib, required on the first gzip layer (or diff): every `berth run` imports this package (its index)
 * and decompresses nothing; loading zlib costs ~0.7 ms of CPU. A require, not `import()`: the
 * CLI's bundle runs in a `vm.Script`, which has no loader for a dynamic import of a built-in.
 */
export function zlib(): typeof import('node:zlib') {
  zlibModule ??= createRequire(import.meta.url ?? '/')('node:zlib') as typeof import('node:zlib');
  return zlibModule;
}

/**
 * fzstd, loaded by the first zstd layer: the module builds its decoding tables when it loads
 * (~0.2-0.4 ms of CPU), and every `berth run` imports this package (its index) and decodes nothing.
 */
let fzstd: Promise<typeof import('fzstd')> | undefined;

/** A zstd decoding `Transform` over fzstd (pure JS, streaming; see README for why). */
class ZstdDecoder extends Transform {
  private decoder: Decompress | undefined;

  /** Runs `step` with the decoder, made on the first chunk (or at the end of an empty stream). */
  private withDecoder(step: (d: Decompress) => void, cb: TransformCallback): void {
    const run = (d: Decompress): void => {
      try {
        step(d);
        cb();
      } catch (err) {
        cb(corrupt('zstd', err));
      }
    };
    if (this.decoder) {
      run(this.decoder);
      return;
    }
    fzstd ??= import('fzstd');
    fzstd.then((m) => {
      this.decoder ??= new m.Decompress((chunk) => {
        if (chunk.byteLength > 0) this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      });
      run(this.decoder);
    }, cb);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.withDecoder((d) => d.push(chunk), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.withDecoder((d) => d.push(new Uint8Array(0), true), cb);
  }
}

/** A `LAYER_INVALID_TAR` error for a corrupt compressed stream, keeping the decoder's error. */
export const corrupt = (kind: string, cause: unknown): BerthError =>
  new BerthError('LAYER_INVALID_TAR', `layer: corrupt ${kind} stream`, {
    input: { field: 'compression' },
    cause,
  });

/**
 * An addon with ISA-L's gzip decoder: berth's is `@berth/runtime`'s `berth-inflate.node`
 * (`native/inflate.c`), which documents the calls. igzip decodes the medium fixture ~2.5 times
 * as fast as node:zlib (README, Throughput).
 */
export interface GunzipAddon {
  /** A decoder for one gzip stream (concatenated members read as one). */
  gunzipNew(): unknown;
  /**
   * Decodes from `input` into `output`; `result` gets [input bytes consumed, output bytes
   * written]. Returns 0 inside a member, 1 after a complete member (CRC32 and size checked), 2
   * after the zero padding that ends the stream, or a negative ISA-L error.
   */
  gunzip(decoder: unknown, input: Uint8Array, output: Uint8Array, result: Uint32Array): number;
}

/** Addons loaded in this thread, by path (undefined: it did not load). */
const addons = new Map<string, GunzipAddon | undefined>();

/**
 * Loads the gzip addon at `path` once per thread; undefined (and one warning) when it does not
 * load (a machine without libisal): the caller decodes with node:zlib instead.
 */
export function loadGunzipAddon(path: string, logger: Logger): GunzipAddon | undefined {
  if (addons.has(path)) return addons.get(path);
  let addon: GunzipAddon | undefined;
  try {
    const m = createRequire(import.meta.url)(path) as Partial<GunzipAddon>;
    if (typeof m.gunzipNew === 'function' && typeof m.gunzip === 'function') addon = m as GunzipAddon;
    else logger.warn('gzip addon has no gunzip; using node:zlib', { path });
  } catch (err) {
    logger.warn('gzip addon did not load; using node:zlib', { path, error: (err as Error).message });
  }
  addons.set(path, addon);
  return addon;
}

/** Bytes of each output buffer of {@link NativeGunzip} (as node:zlib's `chunkSize` was). */
const GUNZIP_OUT = 256 * 1024;

/** ISA-L's errors, for the message (igzip_lib.h). */
const ISAL_ERRORS: Record<number, string> = {
  [-1]: 'invalid deflate block',
  [-2]: 'invalid deflate symbol',
  [-3]: 'invalid lookback distance',
  [-4]: 'invalid gzip header',
  [-5]: 'unsupported compression method',
  [-6]: 'incorrect checksum',
};

/**
 * A gunzip `Transform` over a {@link GunzipAddon}, synchronous on the calling thread (an apply
 * thread: the inflate no longer goes through libuv's pool). Errors are `LAYER_INVALID_TAR`.
 * Backpressure within a chunk, as node:zlib's stream has: when the reader's buffer is full, the
 * rest of the chunk waits for the next `_read`. Without it one ~1 MiB chunk of a gzip bomb (deflate
 * reaches ~1000:1) would be decoded into a gigabyte held in memory at once.
 */
class NativeGunzip extends Transform {
  private readonly decoder: unknown;
  private readonly result = new Uint32Array(2);
  private phase = 0;
  /** A chunk whose decoding waits for the reader, and where in it to go on. */
  private paused: { input: Buffer; at: number; cb: TransformCallback } | undefined;

  constructor(private readonly addon: GunzipAddon) {
    super({ readableHighWaterMark: 1024 * 1024 });
    this.decoder = addon.gunzipNew();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.run(chunk, 0, cb);
  }

  override _read(size: number): void {
    const p = this.paused;
    if (p === undefined) {
      // Transform's own: lets the next chunk in
      super._read(size);
      return;
    }
    this.paused = undefined;
    this.run(p.input, p.at, p.cb);
  }

  override _flush(cb: TransformCallback): void {
    // inside a member (or nothing read at all): the stream was cut short
    cb(this.phase === 0 ? corrupt('gzip', new Error('unexpected end of file')) : null);
  }

  /** Decodes `input` from `at`; calls `cb` once it is used up, or pauses when the reader is full. */
  private run(input: Buffer, at: number, cb: TransformCallback): void {
    let next: number | undefined;
    try {
      next = this.decode(input, at);
    } catch (err) {
      cb(err as Error);
      return;
    }
    if (next === undefined) cb();
    else this.paused = { input, at: next, cb };
  }

  /** Decodes until `input` is used up (undefined) or the reader's buffer is full (where to go on). */
  private decode(input: Buffer, start: number): number | undefined {
    let at = start;
    for (;;) {
      const out = Buffer.allocUnsafeSlow(GUNZIP_OUT);
      const phase = this.addon.gunzip(this.decoder, at === 0 ? input : input.subarray(at), out, this.result);
      if (phase < 0) throw corrupt('gzip', new Error(ISAL_ERRORS[phase] ?? `igzip error ${phase}`));
      this.phase = phase;
      const used = this.result[0] as number;
      const written = this.result[1] as number;
      at += used;
      if (used === 0 && written === 0 && at < input.byteLength)
        throw corrupt('gzip', new Error('igzip made no progress'));
      const room = written === 0 || this.push(written === GUNZIP_OUT ? out : out.subarray(0, written));
      // an output not filled: the input is used up (or the stream over)
      if (written < GUNZIP_OUT && at >= input.byteLength) return undefined;
      if (!room) return at;
    }
  }
}

/**
 * A decompressing `Transform` for a compression; `none` passes bytes through. Decoder errors
 * become `LAYER_INVALID_TAR`. gzip goes through `gunzip` (ISA-L) when given, else node:zlib.
 */
export function createDecompressor(compression: Compression, gunzip?: GunzipAddon): Transform {
  switch (compression) {
    case 'gzip':
      if (gunzip !== undefined) return new NativeGunzip(gunzip);
      // zlib's errors (`Z_DATA_ERROR`…) are mapped to LAYER_INVALID_TAR by the caller
      return zlib().createGunzip({ chunkSize: 256 * 1024 });
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
