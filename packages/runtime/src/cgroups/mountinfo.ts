/**
 * Finding the cgroup hierarchies from /proc/self/mountinfo text (proc(5)), so the detection is
 * a pure function: pure v2 (one cgroup2 mount holding the controllers), v1, or hybrid (v1
 * controllers plus a cgroup2 mount, often /sys/fs/cgroup/unified, with none). Hybrid is driven
 * by the v1 driver, as runc and docker do.
 */
import { BerthError } from '@berth/oci';

/** One line of /proc/self/mountinfo. */
export interface MountinfoEntry {
  /** The path of the mount's root inside its filesystem (field 4). */
  root: string;
  mountpoint: string;
  fstype: string;
  source: string;
  /** Per-superblock options (the last field), split on commas. */
  superOptions: string[];
}

/** A mounted cgroup v1 hierarchy. */
export interface V1Hierarchy {
  mountpoint: string;
  /** The cgroup this mount shows (`/` on the host). */
  root: string;
  /** Its controllers (`cpu`, `cpuacct`) or its name (`name=systemd`). */
  controllers: string[];
}

/** What {@link detectCgroupHost} found. */
export type CgroupHost =
  | { version: 2; root: string }
  | { version: 1; hierarchies: V1Hierarchy[]; unified?: string };

/** The v1 controllers the kernel knows (cgroup_subsys.h); anything else in the options is a flag. */
export const V1_CONTROLLERS: readonly string[] = [
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'blkio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
];

function unescapeField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/**
 * Parses mountinfo text. Lines that do not have the documented shape are refused.
 * @throws BerthError CGROUPS_UNAVAILABLE naming the line
 */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 4)
      throw new BerthError(
        'CGROUPS_UNAVAILABLE',
        `mountinfo line ${i + 1}: malformed "${line.slice(0, 80)}"`,
        {
          input: { file: 'mountinfo', line: i + 1 },
        },
      );
    out.push({
      root: unescapeField(fields[3]!),
      mountpoint: unescapeField(fields[4]!),
      fstype: fields[sep + 1]!,
      source: unescapeField(fields[sep + 2]!),
      superOptions: fields[sep + 3]!.split(','),
    });
  }
  return out;
}

/**
 * Decides which driver a host needs from its mountinfo text: any v1 hierarchy carrying a
 * controller means v1 (hybrid included, with the cgroup2 mount reported as `unified`);
 * otherwise a cgroup2 mount (the one at /sys/fs/cgroup when there are several) means v2.
 * The first mount of each hierarchy wins (later ones are bind mounts of it).
 *
 * @example
 * ```ts
 * const host = detectCgroupHost(await readFile('/proc/self/mountinfo', 'utf8'));
 * if (host.version === 1) console.log(host.hierarchies.map((h) => h.controllers.join(',')));
 * ```
 * @throws BerthError CGROUPS_UNAVAILABLE when no cgroup filesystem is mounted
 */
export function detectCgroupHost(mountinfo: string): CgroupHost {
  const entries = parseMountinfo(mountinfo);
  const hierarchies: V1Hierarchy[] = [];
  const seen = new Set<string>();
  const v2: MountinfoEntry[] = [];
  for (const e of entries) {
    if (e.fstype === 'cgroup2') {
      v2.push(e);
      continue;
    }
    if (e.fstype !== 'cgroup') continue;
    const controllers = e.superOptions.filter((o) => V1_CONTROLLERS.includes(o) || o.startsWith('name='));
    if (controllers.length === 0) continue;
    const key = [...controllers].sort().join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    hierarchies.push({ mountpoint: e.mountpoint, root: e.root, controllers });
  }
  const unified = v2.find((e) => e.mountpoint === '/sys/fs/cgroup') ?? v2[0];
  if (hierarchies.some((h) => h.controllers.some((c) => !c.startsWith('name='))))
    return { version: 1, hierarchies, ...(unified ? { unified: unified.mountpoint } : {}) };
  if (unified) return { version: 2, root: unified.mountpoint };
  throw new BerthError('CGROUPS_UNAVAILABLE', 'mountinfo: no cgroup or cgroup2 filesystem is mounted', {
    input: { file: 'mountinfo', line: 1 },
  });
}
