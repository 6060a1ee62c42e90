import { outputPending, processIO } from './io.js';
import { runCli } from './run-cli.js';

// The CLI's body, bundled into dist/berth.cjs and started by dist/berth.js (src/bin.ts): run
// the command line and exit with its status. Every command awaits its own work, so the process
// ends at once with process.exit, as docker's client ends with os.Exit: a natural exit first
// tears down the whole heap and every handle (~3-5 ms of CPU per command, measured on `run
// --rm`). Output a slow pipe has not taken yet would be lost that way, so then the exit waits
// for it as before. 'exit' listeners (the code cache writer in bin.ts) run either way.
runCli(process.argv.slice(2), processIO()).then((code) => {
  process.exitCode = code;
  if (!outputPending()) process.exit(code);
});
