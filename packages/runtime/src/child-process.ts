import { createRequire } from 'node:module';

let mod: typeof import('node:child_process') | undefined;

/**
 * `node:child_process`, required on first use: a `berth run` never starts a process from node
 * (berth-shim is launched by the addon, src/sys/spawn.ts), so it does not load the module. A
 * require, not `import()`: the CLI's bundle runs in a `vm.Script`, which has no loader for a
 * dynamic import of a built-in.
 */
export function childProcess(): typeof import('node:child_process') {
  mod ??= createRequire(import.meta.url ?? '/')('node:child_process') as typeof import('node:child_process');
  return mod;
}
