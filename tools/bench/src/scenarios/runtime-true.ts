import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCgroupDriver, createRuntime, type Runtime } from '@berth/runtime';
import type { Scenario } from '../scenario.js';
import { writeRuntimeBundle } from './runtime-bundle.js';

let rt: Runtime | undefined;
let n = 0;
/** crun 1.8 refuses hybrid cgroups: it runs in a kept mount namespace without the v2 mount. */
let crunNs: string | undefined;

const bundleOf = (scratch: string) => join(scratch, 'bundle');

/**
 * `runtime-true`: run (create and start in one launch), wait for and delete `true` on one
 * prepared bundle, through @berth/runtime alone (in process, with its cgroup driver, as the engine uses it) vs
 * `crun run` and `runc run` (which also create, start, wait and delete, with cgroups).
 */
export const runtimeTrue: Scenario = {
  name: 'runtime-true',
  description:
    'run (create and start), wait, delete `true` on one bundle: @berth/runtime vs crun run / runc run',
  engines: ['berth', 'crun', 'runc'],
  target: "berth's median <= 1.5x crun's",
  async setup(ctx, engine) {
    if (!existsSync(bundleOf(ctx.scratch))) writeRuntimeBundle(bundleOf(ctx.scratch), ['true']);
    if (engine === 'berth')
      rt = createRuntime({ root: join(ctx.scratch, 'berth'), cgroups: await createCgroupDriver() });
    if (engine === 'crun' && existsSync('/sys/fs/cgroup/unified/cgroup.controllers')) {
      // a persistent private mount namespace (bind-mounted on a file) with the v2 mount gone;
      // nsenter into it costs one small exec per run (about 2 ms here), counted against crun
      const dir = join(ctx.scratch, 'ns');
      mkdirSync(dir);
      execFileSync('mount', ['--bind', dir, dir]);
      execFileSync('mount', ['--make-private', dir]);
      crunNs = join(dir, 'mnt');
      writeFileSync(crunNs, '');
      execFileSync('unshare', [
        `--mount=${crunNs}`,
        '--propagation',
        'private',
        'umount',
        '-l',
        '/sys/fs/cgroup/unified',
      ]);
    }
  },
  step(ctx, engine) {
    const id = `bench-true-${process.pid}-${n++}`;
    const bundle = bundleOf(ctx.scratch);
    if (engine === 'berth')
      return {
        run: async () => {
          // create and start in one launch, as `crun run` and `runc run` do
          await rt!.run(id, bundle);
          const { exitCode } = await rt!.wait(id);
          if (exitCode !== 0) throw new Error(`berth: true exited ${exitCode}`);
          await rt!.delete(id);
        },
      };
    const root = join(ctx.scratch, engine);
    if (engine === 'crun') {
      const argv = [...ctx.crun!, '--root', root, 'run', '--bundle', bundle, id];
      return { argv: crunNs ? ['nsenter', `--mount=${crunNs}`, ...argv] : argv };
    }
    return { argv: [...ctx.runc!, '--root', root, 'run', '--bundle', bundle, id] };
  },
  async teardown(ctx, engine) {
    if (engine === 'crun' && crunNs) {
      execFileSync('umount', [crunNs]);
      execFileSync('umount', [join(ctx.scratch, 'ns')]);
      crunNs = undefined;
    }
  },
};
