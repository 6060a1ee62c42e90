import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES } from '../spec.js';
import { cachedSeccomp, SECCOMP_CACHE_REVISION, seccompCacheKey } from './cache.js';
import { compileSeccomp, encodeSockFilters, SECCOMP_RET } from './compile.js';
import { defaultSeccomp, hostSeccompArch } from './profile.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
const section = defaultSeccomp({
  capabilities: DEFAULT_CAPABILITIES,
  arch: hostSeccompArch(),
  kernel: '6.1.0',
});

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'berth-seccomp-cache-')), 'cache');
});
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

describe('SECCOMP_CACHE_REVISION', () => {
  it('pins the compiled default profile: a compiler change that alters it must bump the revision', () => {
    const x86 = defaultSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'x86_64', kernel: '6.1.0' });
    const digest = sha(compileSeccomp(x86, { arch: 'x86_64' }).bytes).toString('hex');
    // when this fails because compile.ts changed: bump SECCOMP_CACHE_REVISION in cache.ts and
    // update both values here (a change of default-profile.json alone changes the key itself)
    expect({ revision: SECCOMP_CACHE_REVISION, digest }).toEqual({
      revision: 1,
      digest: '1e45b32b27fade407a5b72868714744f2966b7fb519314283693b07675c15a2d',
    });
  });
});

describe('cachedSeccomp', () => {
  it('compiles once, stores program + checksum, and returns the same program', async () => {
    const first = await cachedSeccomp(dir, section);
    expect(first).toEqual(compileSeccomp(section).bytes);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.bpf$/);
    expect(files[0]).toBe(`${seccompCacheKey(section)}.bpf`);
    const stored = readFileSync(join(dir, files[0]!));
    expect(stored.subarray(0, first.length)).toEqual(Buffer.from(first));
    expect(stored.subarray(first.length)).toEqual(sha(first));
    expect(await cachedSeccomp(dir, section)).toEqual(first);
  });

  it('reads a later process its stored program (a planted one proves the hit)', async () => {
    await cachedSeccomp(dir, section);
    const file = join(dir, readdirSync(dir)[0]!);
    const planted = encodeSockFilters([{ code: 0x06, jt: 0, jf: 0, k: SECCOMP_RET.ALLOW }]);
    writeFileSync(file, Buffer.concat([planted, sha(planted)]));
    expect(await cachedSeccomp(dir, section)).toEqual(new Uint8Array(planted));
  });

  it('compiles again over a torn or corrupt file and repairs it', async () => {
    const good = await cachedSeccomp(dir, section);
    const file = join(dir, readdirSync(dir)[0]!);
    for (const bad of [
      Buffer.alloc(0),
      readFileSync(file).subarray(0, 100),
      Buffer.alloc(good.length + 32, 1),
    ]) {
      writeFileSync(file, bad);
      expect(await cachedSeccomp(dir, section)).toEqual(good);
      expect(readFileSync(file).subarray(0, good.length)).toEqual(Buffer.from(good));
    }
  });

  it('keys by section: another profile gets its own entry', async () => {
    await cachedSeccomp(dir, section);
    const other = defaultSeccomp({
      capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'],
      arch: hostSeccompArch(),
      kernel: '6.1.0',
    });
    expect(await cachedSeccomp(dir, other)).toEqual(compileSeccomp(other).bytes);
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('still returns the program when the cache cannot be written', async () => {
    writeFileSync(join(dir, '..', 'cache'), 'not a directory');
    expect(await cachedSeccomp(dir, section)).toEqual(compileSeccomp(section).bytes);
  });
});
