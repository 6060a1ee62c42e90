/** cgroup v1 cpuacct controller: CPU time, total and per CPU (stats only). */
import { parseCount, parseFlatKeyed, readControl, readOptional } from '../files.js';
import type { CgroupStats } from '../types.js';

/** USER_HZ, the unit of cpuacct.stat (100 on every Linux ABI docker supports). */
const USER_HZ = 100;

/** cpuacct.usage, cpuacct.usage_percpu and cpuacct.stat (user/system ticks → ns). */
export async function stats(dir: string): Promise<NonNullable<CgroupStats['cpu']>> {
  const total = parseCount(await readControl(dir, 'cpuacct.usage'), 'cpuacct.usage');
  const percpu = await readOptional(dir, 'cpuacct.usage_percpu');
  const stat = await readOptional(dir, 'cpuacct.stat');
  const kv = stat !== undefined ? parseFlatKeyed(stat, 'cpuacct.stat') : {};
  const tick = 1e9 / USER_HZ;
  return {
    totalUsageNs: total,
    ...(percpu !== undefined
      ? {
          perCpuNs: percpu
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map((v) => parseCount(v, 'cpuacct.usage_percpu')),
        }
      : {}),
    ...(kv.user !== undefined ? { userNs: kv.user * tick } : {}),
    ...(kv.system !== undefined ? { systemNs: kv.system * tick } : {}),
  };
}
