/**
 * {@link DeviceProgramLoader}s: the default loads the program from this process through the
 * berth-sys addon (devfilter.h's code, one bpf(2) load and attach); berth-shim
 * `--device-filter DIR HEX` does the same in a process of its own, which cost a fork and exec
 * (and node:child_process) per container on a v2 host.
 */
import { BerthError } from '@berth/oci';
import { childProcess } from '../../child-process.js';
import { type LocateShimOptions, locateShim } from '../../locate-shim.js';
import { loadAddon } from '../../sys/addon.js';
import type { DeviceProgramLoader } from '../types.js';

/**
 * The default loader: the addon's attachDeviceFilter, in this process.
 *
 * @throws (from the loader) BerthError CGROUP_WRITE_FAILED with the verifier's verdict or the
 *   errno of the attach, SYS_ADDON_NOT_FOUND
 */
export function addonDeviceProgramLoader(): DeviceProgramLoader {
  return async (dir, program) => {
    const why = loadAddon().attachDeviceFilter(dir, program);
    if (why !== null)
      throw new BerthError('CGROUP_WRITE_FAILED', `cgroup ${dir}: device program: ${why}`, {
        input: { field: 'linux.resources.devices' },
      });
  };
}

/**
 * A loader that runs berth-shim to load and attach the program (one short process per cgroup;
 * the attachment outlives it).
 *
 * @throws (from the loader) BerthError SHIM_NOT_FOUND, CGROUP_WRITE_FAILED with the shim's
 *   message (the verifier's verdict, or the errno of the attach)
 */
export function shimDeviceProgramLoader(opts: LocateShimOptions = {}): DeviceProgramLoader {
  let shim: Promise<string> | undefined;
  return async (dir, program) => {
    shim ??= locateShim(opts);
    const path = await shim;
    const hex = Buffer.from(program).toString('hex');
    const { execFile } = childProcess();
    await new Promise<void>((resolve, reject) => {
      execFile(path, ['--device-filter', dir, hex], (err, _stdout, stderr) => {
        if (!err) return resolve();
        const why = stderr.trim().replace(/^berth-shim: /, '') || err.message;
        reject(
          new BerthError('CGROUP_WRITE_FAILED', `cgroup ${dir}: device program: ${why}`, {
            input: { field: 'linux.resources.devices' },
            cause: err,
          }),
        );
      });
    });
  };
}
