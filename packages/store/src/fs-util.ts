/**
 * Durable file primitives (DESIGN.md, State on disk): every metadata write is write-temp,
 * fsync, rename, then fsync of the directory so the rename itself survives a power loss.
 * Hand-written (about 60 lines) rather than `write-file-atomic` because that package does not
 * fsync the directory, has no `AbortSignal`, and cannot create-if-absent (`link`) as
 * {@link writeFileExclusive} needs.
 */
import { link, open, rename, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';

/** Prefix of every temporary file, so `repair()` can recognise leftovers of a crash. */
export const TEMP_PREFIX = '.tmp-';

let crypto: typeof import('node:crypto') | undefined;

/**
 * node:crypto, loaded on first use: opening the store and listing images never hash or draw
 * random names, and loading it costs ~2 ms of every command. (Node 20 has no
 * `process.getBuiltinModule`.) A built-in resolves from any path: `import.meta.url` is empty where
 * this module is bundled into CommonJS (the registry's demo CLI), so `/` stands in.
 */
export function nodeCrypto(): typeof import('node:crypto') {
  crypto ??= createRequire(import.meta.url ?? '/')('node:crypto') as typeof import('node:crypto');
  return crypto;
}

/** `bytes` random bytes in hex, for temporary names and IDs. */
export function randomHex(bytes: number): string {
  return nodeCrypto().randomBytes(bytes).toString('hex');
}

/** A temporary name in the same directory as `path` (rename stays on one filesystem). */
export function tempPath(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${process.pid}-${randomHex(6)}`);
}

/** fsyncs a directory so a rename or link inside it is durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeTemp(path: string, data: Uint8Array | string, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const tmp = tempPath(path);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  return tmp;
}

/**
 * Replaces `path` atomically with `data`: readers see the old content or the new, never a part.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const tmp = await writeTemp(path, data, opts.signal);
  try {
    opts.signal?.throwIfAborted();
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dirname(path));
}

/**
 * Creates `path` with `data` only if it does not exist yet (atomically, via link(2)). Returns
 * false when it already existed, leaving it untouched.
 */
export async function writeFileExclusive(
  path: string,
  data: Uint8Array | string,
  opts: { signal?: AbortSignal } = {},
): Promise<boolean> {
  const tmp = await writeTemp(path, data, opts.signal);
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await syncDir(dirname(path));
  return true;
}

/** Tells whether an error is an errno error with one of `codes`. */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}
