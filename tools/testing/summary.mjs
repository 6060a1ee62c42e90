// Prints vitest's JSON report as one plain closing line, "N passed, N failed, N skipped",
// which CI reads in any language. Exits non-zero when nothing ran or anything was skipped
// without BERTH_TEST_ALLOW_SKIP=1 (STYLE.md: CI fails on any skip).
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed + failed === 0) {
  console.error('no test ran');
  process.exit(1);
}
if (skipped > 0 && process.env.BERTH_TEST_ALLOW_SKIP !== '1') {
  console.error(`${skipped} tests were skipped; CI allows no skip (set BERTH_TEST_ALLOW_SKIP=1 to allow)`);
  process.exit(1);
}
process.exit(failed > 0 ? 1 : 0);
