import type { ContainerSummary, DiskUsage, UsageTotals } from '@berth/engine';
import { describe, expect, it } from 'vitest';
import { diskUsageRows, verboseDiskUsage } from './system-df.js';

const container = (id: string, State: ContainerSummary['State'], SizeRw: number): ContainerSummary => ({
  Id: id.repeat(64),
  Names: [`/c${id}`],
  Image: 'busybox',
  ImageID: `sha256:${'b'.repeat(64)}`,
  Command: 'sleep 1000',
  Created: Math.floor(Date.now() / 1000) - 7200,
  Ports: [],
  SizeRw,
  SizeRootFs: SizeRw + 2_000_000,
  Labels: {},
  State,
  Status: State === 'running' ? 'Up 2 hours' : 'Exited (0) 1 hour ago',
  HostConfig: { NetworkMode: 'none' },
  Mounts: [],
});

const usage = (containers: ContainerSummary[], totals: UsageTotals): DiskUsage => ({
  images: {
    total: 2,
    active: 1,
    size: 4_000_000,
    reclaimable: 1_000_000,
    items: [
      {
        id: `sha256:${'b'.repeat(64)}`,
        repoTags: ['localhost:5000/busybox:1', 'busybox:latest'],
        created: 0,
        size: 3_000_000,
        sharedSize: 1_000_000,
        uniqueSize: 2_000_000,
        containers: containers.length,
      },
      {
        id: `sha256:${'d'.repeat(64)}`,
        repoTags: [],
        created: 0,
        size: 2_000_000,
        sharedSize: 1_000_000,
        uniqueSize: 1_000_000,
        containers: 0,
      },
    ],
  },
  containers: { ...totals, items: containers },
});

describe('system df rows (docker/cli formatter.DiskUsageContext)', () => {
  it('prints each kind with its share of reclaimable bytes; no share where the total is 0', () => {
    const cs = [container('a', 'running', 1000), container('e', 'exited', 3000)];
    const rows = diskUsageRows(usage(cs, { total: 2, active: 1, size: 4000, reclaimable: 3000 }));
    expect(rows).toEqual([
      { Type: 'Images', TotalCount: '2', Active: '1', Size: '4MB', Reclaimable: '1MB (25%)' },
      { Type: 'Containers', TotalCount: '2', Active: '1', Size: '4kB', Reclaimable: '3kB (75%)' },
      { Type: 'Local Volumes', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
      { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
    ]);
    const none = diskUsageRows(usage([], { total: 0, active: 0, size: 0, reclaimable: 0 }));
    expect(none[1]).toEqual({
      Type: 'Containers',
      TotalCount: '0',
      Active: '0',
      Size: '0B',
      Reclaimable: '0B',
    });
  });

  it('-v: the first tag of each image, <none> for an untagged one, containers without the virtual size', () => {
    const cs = [container('a', 'running', 1234)];
    const v = verboseDiskUsage(usage(cs, { total: 1, active: 1, size: 1234, reclaimable: 0 }), true);
    expect(
      v.Images.map((i) => [i.Repository, i.Tag, i.ID, i.Size, i.SharedSize, i.UniqueSize, i.Containers]),
    ).toEqual([
      ['localhost:5000/busybox', '1', 'b'.repeat(12), '3MB', '1MB', '2MB', '1'],
      ['<none>', '<none>', 'd'.repeat(12), '2MB', '1MB', '1MB', '0'],
    ]);
    // docker/cli: SIZE to 3 significant digits, SHARED and UNIQUE SIZE to 4
    const odd = usage([], { total: 0, active: 0, size: 0, reclaimable: 0 });
    odd.images.items = [{ ...odd.images.items[0]!, size: 1_982_345, sharedSize: 0, uniqueSize: 1_982_345 }];
    expect(
      verboseDiskUsage(odd, true).Images.map((i) => [i.Size, i.SharedSize, i.UniqueSize, i.VirtualSize]),
    ).toEqual([['1.98MB', '0B', '1.982MB', '1.982MB']]);
    expect(v.Containers.map((c) => [c.ID, c.Size, c.Names, c.Status])).toEqual([
      ['a'.repeat(12), '1.23kB', 'ca', 'Up 2 hours'],
    ]);
    expect(
      verboseDiskUsage(usage(cs, { total: 1, active: 1, size: 1234, reclaimable: 0 }), false).Containers[0]
        ?.ID,
    ).toBe('a'.repeat(64));
  });
});
