import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { detectCgroupHost, parseMountinfo } from './mountinfo.js';
import { containerCgroupPath, validateCgroupPath } from './path.js';

// this machine's /proc/self/mountinfo, cgroup part (hybrid: v1 controllers, empty cgroup2 at unified)
const HYBRID = `22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// a systemd v1 host: cpu and cpuacct co-mounted, optional fields, a bind mount of a hierarchy
const V1 = `25 20 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
99 1 0:27 / /mnt/memory\\040copy rw,relatime - cgroup cgroup rw,memory
`;

const V2 = `24 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
25 22 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
`;

describe('detectCgroupHost', () => {
  it('treats this hybrid host as v1, keeping the unified mount', () => {
    const h = detectCgroupHost(HYBRID);
    expect(h.version).toBe(1);
    if (h.version !== 1) return;
    expect(h.unified).toBe('/sys/fs/cgroup/unified');
    expect(h.hierarchies.map((x) => x.controllers.join(','))).toEqual([
      'cpu',
      'cpuacct',
      'cpuset',
      'memory',
      'devices',
      'freezer',
      'blkio',
      'pids',
      'name=systemd',
    ]);
    expect(h.hierarchies.find((x) => x.controllers.includes('memory'))?.mountpoint).toBe(
      '/sys/fs/cgroup/memory',
    );
  });

  it('reads co-mounted controllers and name=, ignores flags and later bind mounts', () => {
    const h = detectCgroupHost(V1);
    expect(h).toEqual({
      version: 1,
      hierarchies: [
        { mountpoint: '/sys/fs/cgroup/systemd', root: '/', controllers: ['name=systemd'] },
        { mountpoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/', controllers: ['cpu', 'cpuacct'] },
        { mountpoint: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'] },
      ],
    });
  });

  it('detects pure v2', () => {
    expect(detectCgroupHost(V2)).toEqual({ version: 2, root: '/sys/fs/cgroup' });
  });

  it('refuses a host without cgroups and malformed lines', () => {
    expect(
      isBerthError(
        catchOf(() => detectCgroupHost('1 0 0:1 / / rw - ext4 /dev/vda rw\n')),
        'CGROUPS_UNAVAILABLE',
      ),
    ).toBe(true);
    const err = catchOf(() => parseMountinfo('ok line is not here\n'));
    expect(isBerthError(err, 'CGROUPS_UNAVAILABLE')).toBe(true);
    expect((err as { input?: unknown }).input).toEqual({ file: 'mountinfo', line: 1 });
  });

  it('unescapes octal sequences in paths', () => {
    expect(parseMountinfo(V1)[4]!.mountpoint).toBe('/mnt/memory copy');
  });
});

function catchOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('cgroup paths', () => {
  it('defaults to /berth/<id>; takes linux.cgroupsPath, normalised', () => {
    expect(containerCgroupPath('web')).toBe('/berth/web');
    expect(containerCgroupPath('web', { linux: { cgroupsPath: '/custom//x/' } })).toBe('/custom/x');
  });

  it('refuses hostile or unsupported paths naming the field', () => {
    for (const p of ['relative', '/', '/a/../b', '/a/./b', 'machine.slice:berth:web', '/a b', '/a\0b']) {
      const err = catchOf(() => validateCgroupPath(p));
      expect(isBerthError(err, 'CGROUP_PATH_INVALID')).toBe(true);
      expect((err as { input?: unknown }).input).toEqual({ field: 'linux.cgroupsPath' });
    }
    expect(
      isBerthError(
        catchOf(() => containerCgroupPath('../x')),
        'CGROUP_PATH_INVALID',
      ),
    ).toBe(true);
  });
});
