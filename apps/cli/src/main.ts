#!/usr/bin/env node
import { processIO } from './io.js';
import { runCli } from './run-cli.js';

// The `berth` binary: run the command line and exit with its status once output has drained.
process.exitCode = await runCli(process.argv.slice(2), processIO());
