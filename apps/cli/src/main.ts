import { processIO } from './io.js';
import { runCli } from './run-cli.js';

// The CLI's body, bundled into dist/berth.cjs and started by dist/berth.js (src/bin.ts): run
// the command line and exit with its status once output has drained.
runCli(process.argv.slice(2), processIO()).then((code) => {
  process.exitCode = code;
});
