import { describe, expect, it } from 'vitest';
import { MOUNT_DATA_LIMIT, mountCommand } from './mount.js';
import { snapshotMounts } from './snapshotter.js';

describe('snapshotMounts', () => {
  const own = { fs: '/s/snapshots/9/fs', work: '/s/snapshots/9/work' };
  it('stacks the parent chain as lowerdirs with an upper and work dir', () => {
    expect(snapshotMounts('overlay', 'active', own, ['/s/snapshots/2/fs', '/s/snapshots/1/fs'])).toEqual([
      {
        type: 'overlay',
        source: 'overlay',
        options: [
          'index=off',
          'redirect_dir=off',
          'lowerdir=/s/snapshots/2/fs:/s/snapshots/1/fs',
          'upperdir=/s/snapshots/9/fs',
          'workdir=/s/snapshots/9/work',
        ],
      },
    ]);
  });
  it('binds a snapshot without parents, and a one-parent view read-only', () => {
    expect(snapshotMounts('overlay', 'active', own, [])).toEqual([
      { type: 'bind', source: own.fs, options: ['rbind', 'rw'] },
    ]);
    expect(snapshotMounts('overlay', 'view', own, ['/p'])).toEqual([
      { type: 'bind', source: '/p', options: ['rbind', 'ro'] },
    ]);
    expect(snapshotMounts('overlay', 'view', own, ['/p', '/q'])).toEqual([
      { type: 'overlay', source: 'overlay', options: ['ro', 'lowerdir=/p:/q'] },
    ]);
  });
  it('binds copies with the copy driver', () => {
    expect(snapshotMounts('copy', 'active', own, ['/p'])).toEqual([
      { type: 'bind', source: own.fs, options: ['rbind', 'rw'] },
    ]);
    expect(snapshotMounts('copy', 'view', own, ['/p'])).toEqual([
      { type: 'bind', source: '/p', options: ['rbind', 'ro'] },
    ]);
  });
});

describe('mountCommand', () => {
  it('passes short options through', () => {
    expect(
      mountCommand(
        { type: 'overlay', source: 'overlay', options: ['lowerdir=/a:/b', 'upperdir=/u', 'workdir=/w'] },
        '/t',
      ),
    ).toEqual({
      args: ['-t', 'overlay', '-o', 'lowerdir=/a:/b,upperdir=/u,workdir=/w', '--', 'overlay', '/t'],
    });
    expect(mountCommand({ type: 'bind', source: '/s', options: ['rbind', 'ro'] }, '/t')).toEqual({
      args: ['-o', 'rbind,ro', '--', '/s', '/t'],
    });
  });

  it('makes 500 lowers relative to their common directory to fit the page', () => {
    const base = `/var/lib/berth/${'x'.repeat(40)}/snapshots/snapshots`;
    const lowers = Array.from({ length: 500 }, (_, i) => `${base}/${500 - i}/fs`);
    const m = {
      type: 'overlay',
      source: 'overlay',
      options: [`lowerdir=${lowers.join(':')}`, `upperdir=${base}/501/fs`, `workdir=${base}/501/work`],
    };
    expect(m.options.join(',').length).toBeGreaterThan(MOUNT_DATA_LIMIT);
    const cmd = mountCommand(m, '/t');
    expect(cmd.cwd).toBe(base);
    const opts = cmd.args[3]!;
    expect(opts.length).toBeLessThan(MOUNT_DATA_LIMIT);
    expect(opts.startsWith('lowerdir=500/fs:499/fs:')).toBe(true);
    expect(opts).toContain(`upperdir=${base}/501/fs`);
  });

  it('refuses options that cannot fit', () => {
    const lowers = Array.from({ length: 300 }, (_, i) => `/${'a'.repeat(20)}${i}`);
    expect(() =>
      mountCommand({ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`] }, '/t'),
    ).toThrow(expect.objectContaining({ code: 'MOUNT_FAILED' }));
  });
});
