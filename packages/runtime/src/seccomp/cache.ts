/**
 * A cross-process cache of compiled seccomp programs: compiling docker's default profile costs
 * 15-40 ms of CPU per container start, and nearly every container asks for the same program.
 * Files are `<dir>/<sha256(revision, arch, section)>.bpf` holding the program followed by the
 * sha256 of the program, written temp-then-rename (no fsync: a file torn by a crash fails its
 * checksum and is compiled again). The state root is trusted as a whole (whoever can write it
 * can start any container), so the cache adds no way in; the checksum only guards against torn
 * or truncated files.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { type LinuxSeccomp, sha256 } from '@berth/oci';
import { compileSeccomp } from './compile.js';
import { hostSeccompArch } from './profile.js';

/**
 * Bump when {@link compileSeccomp} emits different code for the same section: old cache
 * entries then stop matching. compile.test.ts pins the default profile's program, so a change
 * of output fails there first.
 */
export const SECCOMP_CACHE_REVISION = 1;

const SUM = 32;

/**
 * The cache key of a section: hex sha256 of the revision, the host arch and the section's JSON
 * (one JSON.stringify of docker's ~6 kB default section; a caller keeping programs in memory
 * too keys them by this, so a start stringifies the section once).
 */
export function seccompCacheKey(section: LinuxSeccomp): string {
  return sha256(`${SECCOMP_CACHE_REVISION}\n${hostSeccompArch()}\n${JSON.stringify(section)}`).toString(
    'hex',
  );
}

/**
 * The compiled program of a runtime-spec seccomp section, from `dir` when an earlier process
 * compiled it, else compiled now and stored there. A cache that cannot be read or written is
 * skipped silently: the result is always what {@link compileSeccomp} returns. `key` is
 * {@link seccompCacheKey} of the section when the caller has it already.
 * @throws BerthError as compileSeccomp (an invalid section is never cached)
 */
export async function cachedSeccomp(
  dir: string,
  section: LinuxSeccomp,
  key: string = seccompCacheKey(section),
): Promise<Uint8Array> {
  const file = `${dir}/${key}.bpf`;
  let hit: Buffer | undefined;
  try {
    hit = readFileSync(file);
  } catch {
    hit = undefined;
  }
  if (hit && hit.length > SUM && (hit.length - SUM) % 8 === 0) {
    const prog = hit.subarray(0, hit.length - SUM);
    if (sha256(prog).equals(hit.subarray(hit.length - SUM))) return new Uint8Array(prog);
  }
  const bytes = compileSeccomp(section).bytes;
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, Buffer.concat([bytes, sha256(bytes)]), { mode: 0o600 });
    await rename(tmp, file);
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
  }
  return bytes;
}
