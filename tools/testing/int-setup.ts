// Global setup of the `int` project (STYLE.md, Testing: "root is checked, and a skip must say
// why"). Integration tests need root; they fail fast without it unless BERTH_TEST_ALLOW_SKIP=1.
export default function setup(): void {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0 && process.env.BERTH_TEST_ALLOW_SKIP !== '1') {
    throw new Error(
      `integration tests need root (uid is ${uid}); run as root or set BERTH_TEST_ALLOW_SKIP=1 to skip them with a reason`,
    );
  }
}
