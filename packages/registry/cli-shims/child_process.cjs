'use strict';
// Node 20's node:child_process export names.
module.exports = require('./lazy.cjs')('node:child_process', [
  '_forkChild',
  'ChildProcess',
  'exec',
  'execFile',
  'execFileSync',
  'execSync',
  'fork',
  'spawn',
  'spawnSync',
]);
