import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileLockerSuite } from '@berth/oci/testing';
import { lockfileLocker } from './lock.js';

fileLockerSuite('overlay default (proper-lockfile)', async () => {
  const dir = await mkdtemp(join(tmpdir(), `berth-overlay-lock-t${process.pid}-`));
  return { locker: lockfileLocker, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
});
