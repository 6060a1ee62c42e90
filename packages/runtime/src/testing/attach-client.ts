/**
 * Test helper: a minimal `berth attach` for a real terminal, run by tsx inside tmux by the
 * attach int test. Puts its terminal in raw mode, attaches to the container, follows its own
 * window size (SIGWINCH) with resize, and prints `[detached]` or `[exited N]` at the end.
 *
 *   tsx --conditions=@berth/source attach-client.ts ROOT SHIM ID
 */
import { createRuntime } from '../runtime.js';

const [root, shim, id] = process.argv.slice(2);
if (!root || !shim || !id) {
  process.stderr.write('usage: attach-client ROOT SHIM ID\n');
  process.exit(2);
}
const rt = createRuntime({ root, shim });
const size = () => ({ rows: process.stdout.rows ?? 24, cols: process.stdout.columns ?? 80 });
if (process.stdin.isTTY) process.stdin.setRawMode(true);
const handle = await rt.attach(id, { stdin: process.stdin, stdout: process.stdout, tty: true });
await handle.resize(size());
process.on('SIGWINCH', () => {
  handle.resize(size()).catch(() => {});
});
const end = await handle.done;
if (process.stdin.isTTY) process.stdin.setRawMode(false);
if (end === 'detached') {
  process.stdout.write('\r\n[detached]\r\n');
} else {
  const { exitCode } = await rt.wait(id);
  process.stdout.write(`\r\n[exited ${exitCode}]\r\n`);
}
process.stdin.destroy();
// stay so the test can read the pane
setInterval(() => {}, 1 << 30);
