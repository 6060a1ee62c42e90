import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf, isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLeaseManager, type LeaseManager, leaseExpired } from './leases.js';

const code = (c: string) => (e: unknown) => isBerthError(e, c);

describe('leases', () => {
  let root: string;
  let leases: LeaseManager;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
    leases = await createLeaseManager({ path: join(root, 'leases') });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a lease, adds and removes resources, deletes it', async () => {
    const lease = await leases.create({ id: 'pull-1', labels: { ref: 'busybox' } });
    expect(lease).toMatchObject({ id: 'pull-1', labels: { ref: 'busybox' }, resources: [] });
    const d = digestOf('blob');
    await leases.addResource('pull-1', { type: 'content', digest: d });
    await leases.addResource('pull-1', { type: 'snapshot', key: 'sha256:abc/with/slashes' });
    await leases.addResource('pull-1', { type: 'content', digest: d });
    const got = await leases.get('pull-1');
    expect(got.resources).toEqual(
      expect.arrayContaining([
        { type: 'content', digest: d },
        { type: 'snapshot', key: 'sha256:abc/with/slashes' },
      ]),
    );
    expect(got.resources).toHaveLength(2);
    await leases.deleteResource('pull-1', { type: 'content', digest: d });
    expect((await leases.get('pull-1')).resources).toEqual([
      { type: 'snapshot', key: 'sha256:abc/with/slashes' },
    ]);
    await leases.delete('pull-1');
    await expect(leases.get('pull-1')).rejects.toSatisfy(code('LEASE_NOT_FOUND'));
    await expect(leases.delete('pull-1')).rejects.toSatisfy(code('LEASE_NOT_FOUND'));
    await expect(leases.addResource('pull-1', { type: 'content', digest: d })).rejects.toSatisfy(
      code('LEASE_NOT_FOUND'),
    );
  });

  it('refuses duplicates and bad input with typed errors', async () => {
    await leases.create({ id: 'x' });
    await expect(leases.create({ id: 'x' })).rejects.toSatisfy(code('LEASE_EXISTS'));
    for (const id of ['../escape', '', '.hidden', 'a/b', 'x'.repeat(200)]) {
      await expect(leases.create({ id }), id).rejects.toSatisfy(code('LEASE_INVALID'));
      await expect(leases.get(id), id).rejects.toSatisfy(code('LEASE_INVALID'));
    }
    await expect(leases.addResource('x', { type: 'snapshot', key: 'a\0b' })).rejects.toSatisfy(
      code('LEASE_INVALID'),
    );
    await expect(
      leases.addResource('x', { type: 'content', digest: 'sha256:zz' as never }),
    ).rejects.toSatisfy(code('INVALID_DIGEST'));
    await expect(leases.create({ expiresIn: -1 })).rejects.toSatisfy(code('LEASE_INVALID'));
  });

  it('ends an untilExit lease when its process is gone', async () => {
    const { writeFile, readFile } = await import('node:fs/promises');
    const mine = await leases.create({ id: 'mine', untilExit: true });
    expect(mine.owner?.pid).toBe(process.pid);
    expect(await leaseExpired(mine)).toBe(false);
    // The same lease as if created by a process that has exited.
    const file = join(root, 'leases', 'mine', 'lease.json');
    const f = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...f, owner: { pid: 999999999, start: 1 } }));
    expect(await leaseExpired(await leases.get('mine'))).toBe(true);
    expect(await leases.removeExpired()).toEqual(['mine']);
  });

  it('expires leases and cleans leftovers of dead processes', async () => {
    await leases.create({ id: 'short', expiresIn: 1000 });
    await leases.create({ id: 'forever' });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(root, 'leases', '.tmp-dead-999999999-0123456789ab'));
    await mkdir(join(root, 'leases', '.deleting-old-999999999-0123456789ab'));
    expect(await leases.removeExpired({ now: new Date(Date.now() + 500) })).toEqual([]);
    expect(await leases.removeExpired({ now: new Date(Date.now() + 5000) })).toEqual(['short']);
    expect((await leases.list()).map((l) => l.id)).toEqual(['forever']);
    expect(await readdir(join(root, 'leases'))).toEqual(['forever']);
  });
});
