import { describe, expect, it } from 'vitest';
import { INIT_PATH_IN_CONTAINER, locateInit, withInit } from './init.js';
import { INIT_SIGBLOCK_ANNOTATION, launchFromSpec } from './launch-spec.js';
import { dockerLikeSpec } from './testing/busybox-bundle.js';

describe('withInit', () => {
  it('binds the init read-only at /sbin/docker-init and prefixes args, leaving the input alone', () => {
    const spec = dockerLikeSpec(['sh', '-c', 'x']);
    const out = withInit(spec, { initPath: '/usr/lib/berth/berth-init' });
    expect(out.process!.args).toEqual([INIT_PATH_IN_CONTAINER, '--', 'sh', '-c', 'x']);
    expect(out.mounts!.at(-1)).toEqual({
      destination: '/sbin/docker-init',
      type: 'bind',
      source: '/usr/lib/berth/berth-init',
      options: ['bind', 'ro', 'nosuid', 'nodev'],
    });
    expect(spec.process!.args).toEqual(['sh', '-c', 'x']);
    expect(
      withInit(out, { initPath: '/b' }).mounts!.filter((m) => m.destination === INIT_PATH_IN_CONTAINER),
    ).toHaveLength(1);
  });
  it('asks berth-shim to start berth-init with its signals blocked, and no other init', () => {
    const berthInit = withInit(dockerLikeSpec(['x']), { initPath: '/usr/lib/berth/berth-init' });
    expect(berthInit.annotations).toEqual({ [INIT_SIGBLOCK_ANNOTATION]: 'true' });
    expect(launchFromSpec(berthInit, { id: 'c', bundleDir: '/b' }).blockSignals).toBe(true);
    const tini = withInit(berthInit, { initPath: '/usr/bin/tini' });
    expect(tini.annotations).toEqual({});
    expect(launchFromSpec(tini, { id: 'c', bundleDir: '/b' }).blockSignals).toBe(false);
    expect(withInit(dockerLikeSpec(['x']), { initPath: '/usr/bin/tini' }).annotations).toBeUndefined();
  });
  it('refuses a relative path and a spec without args', () => {
    expect(() => withInit(dockerLikeSpec(['x']), { initPath: 'init' })).toThrow(
      expect.objectContaining({ code: 'INIT_INVALID', input: { field: 'initPath' } }),
    );
    expect(() => withInit({ ociVersion: '1.2.0' }, { initPath: '/i' })).toThrow(/no process args/);
  });
});

describe('locateInit', () => {
  it('lists every path tried', async () => {
    await expect(
      locateInit({ init: 'relative', searchPath: '/nonexistent-dir', skipBundled: true }),
    ).rejects.toThrow(/relative \(not an absolute path\).*\/nonexistent-dir\/berth-init \(ENOENT\)/);
  });
});
