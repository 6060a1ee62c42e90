// Global setup of the `int` project (STYLE.md, Testing: "root is checked, and a skip must say
// why"). Integration tests need root; they fail fast without it unless BERTH_TEST_ALLOW_SKIP=1.
//
// dockerd is a machine-wide singleton, and test files run in parallel forks: if each started
// and stopped it, one file would stop the daemon under another. So it is started once here,
// when docker.io is installed and no daemon answers, and stopped after the whole run; the
// tests' own ensureDockerd() calls then find it running and leave it alone.
import { dockerAvailable, ensureDockerd } from '../fixtures/src/index.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) {
    if (process.env.BERTH_TEST_ALLOW_SKIP === '1') return undefined;
    throw new Error(
      `integration tests need root (uid is ${uid}); run as root or set BERTH_TEST_ALLOW_SKIP=1 to skip them with a reason`,
    );
  }
  if (!(await dockerAvailable())) return undefined;
  const daemon = await ensureDockerd();
  return daemon.started ? () => daemon.stop() : undefined;
}
