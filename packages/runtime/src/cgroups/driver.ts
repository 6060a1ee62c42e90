/** The facade: detect the host's cgroup layout and return the matching driver. */
import { readFileSync } from 'node:fs';
import type { Logger } from '@berth/oci';
import { BerthError } from '@berth/oci';
import type { LocateShimOptions } from '../locate-shim.js';
import { hasControl } from './files.js';
import { detectCgroupHost } from './mountinfo.js';
import type { CgroupDriver } from './types.js';
import { createCgroupV1Driver } from './v1/driver.js';
import { addonDeviceProgramLoader } from './v2/device-loader.js';
import { createCgroupV2Driver } from './v2/driver.js';

/** Options of {@link createCgroupDriver}. */
export interface CreateCgroupDriverOptions {
  /** mountinfo text; default: /proc/self/mountinfo. */
  mountinfo?: string;
  logger?: Logger;
  signal?: AbortSignal;
  /**
   * @deprecated Unused: the v2 driver attaches device programs from this process (the berth-sys
   * addon, {@link addonDeviceProgramLoader}); {@link shimDeviceProgramLoader} remains for a
   * driver made with {@link createCgroupV2Driver}.
   */
  shim?: LocateShimOptions;
}

/**
 * Detects the host (pure v2, v1 or hybrid) and returns its driver: v1 for v1 and hybrid hosts,
 * v2 when a cgroup2 mount with cgroup.controllers is all there is.
 *
 * @example
 * ```ts
 * const cg = await createCgroupDriver();
 * await cg.create('/berth/web', { memory: { limit: 64 * 1024 * 1024 } });
 * ```
 * @throws BerthError CGROUPS_UNAVAILABLE
 */
export async function createCgroupDriver(opts: CreateCgroupDriverOptions = {}): Promise<CgroupDriver> {
  opts.signal?.throwIfAborted();
  // synchronous: a promise readFile is four thread-pool round trips
  const text = opts.mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
  const host = detectCgroupHost(text);
  const logger = opts.logger ? { logger: opts.logger } : {};
  if (host.version === 1)
    return createCgroupV1Driver({
      hierarchies: host.hierarchies,
      ...(host.unified ? { unified: host.unified } : {}),
      ...logger,
    });
  if (!(await hasControl(host.root, 'cgroup.controllers')))
    throw new BerthError('CGROUPS_UNAVAILABLE', `cgroup2 mount ${host.root}: has no cgroup.controllers`, {
      input: { field: 'mountinfo' },
    });
  return createCgroupV2Driver({
    root: host.root,
    loadDeviceProgram: addonDeviceProgramLoader(),
    ...logger,
  });
}
