import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '@berth/oci';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../runtime.js';
import { dockerLikeSpec, writeBundle } from '../testing/busybox-bundle.js';
import { buildShim } from '../testing/shim-build.js';
import { createCgroupDriver } from './driver.js';
import type { CgroupDriver } from './types.js';

let shim: string;
let tmp: string;
let rt: Runtime;
let cg: CgroupDriver;
let n = 0;
const ids: string[] = [];

beforeAll(async () => {
  shim = buildShim();
  cg = await createCgroupDriver();
});
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), `berth-t${process.pid}-`));
  rt = createRuntime({ root: join(tmp, 'state'), shim, cgroups: cg });
});
afterEach(async () => {
  for (const id of ids.splice(0)) await rt.delete(id, { force: true }).catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

function newId(): string {
  const id = `berth-t${process.pid}-${n++}`;
  ids.push(id);
  return id;
}

function bundle(args: string[], patch?: (s: Spec) => void): string {
  return writeBundle(join(tmp, `bundle${n++}`), dockerLikeSpec(args, patch));
}

function logOf(path: string): string {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { log: string }).log)
    .join('');
}

describe('cgroups through createRuntime (real v1 hierarchy)', () => {
  it('shows the memory limit inside the container', async () => {
    const id = newId();
    await rt.create(
      id,
      bundle(['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/proc/self/cgroup'], (s) => {
        s.linux!.resources = { memory: { limit: 64 * 1024 * 1024 } };
        s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'cgroup');
      }),
    );
    await rt.start(id);
    const exit = await rt.wait(id);
    const st = await rt.state(id);
    console.log(logOf(st.logPath!));
    expect(exit.exitCode).toBe(0);
  });
});
