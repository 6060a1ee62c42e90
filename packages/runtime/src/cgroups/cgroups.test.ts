import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeV1Fixture, makeV2Fixture } from '../testing/cgroup-fixture.js';
import { cgroupSuite } from '../testing/cgroup-suite.js';
import { createCgroupV1Driver } from './v1/driver.js';
import { createCgroupV2Driver } from './v2/driver.js';

let n = 0;
const newPath = () => `/berth/berth-t${process.pid}-${n++}`;
const tmp = () => mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));

cgroupSuite('v1 driver on a fixture tree', async () => {
  const dir = await tmp();
  const fx = makeV1Fixture(dir);
  return {
    driver: createCgroupV1Driver({ hierarchies: fx.hierarchies, unified: fx.unified }),
    fixture: fx,
    newPath,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

cgroupSuite('v1 driver on a fixture tree without swap accounting or BFQ', async () => {
  const dir = await tmp();
  const fx = makeV1Fixture(dir, { omit: ['memory.memsw.limit_in_bytes', 'blkio.bfq.weight'] });
  return {
    driver: createCgroupV1Driver({ hierarchies: fx.hierarchies }),
    fixture: fx,
    newPath,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

cgroupSuite('v2 driver on a fixture tree', async () => {
  const dir = await tmp();
  const fx = makeV2Fixture(dir);
  return {
    driver: createCgroupV2Driver({ root: dir }),
    fixture: fx,
    newPath,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
