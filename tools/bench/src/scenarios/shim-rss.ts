import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCgroupDriver, createRuntime, type Runtime } from '@berth/runtime';
import type { Scenario } from '../scenario.js';
import { writeRuntimeBundle } from './runtime-bundle.js';

const run = promisify(execFile);
const IMAGE = 'berth-bench-busybox:rss';

let rt: Runtime | undefined;
let n = 0;
const started: { berth: string[]; docker: string[]; podman: string[] } = {
  berth: [],
  docker: [],
  podman: [],
};

/** VmRSS of a process, in KiB. */
function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`pid ${pid}: no VmRSS`);
  return Number(m[1]);
}

/** Gives a freshly started supervisor a moment to settle into its idle loop. */
const settle = () => new Promise((r) => setTimeout(r, 300));

/**
 * `shim-rss`: the resident memory of the process that supervises one idle container (`sleep`):
 * berth-shim (started through @berth/runtime), podman's conmon (`podman run -d --rootfs`) and
 * docker's containerd-shim-runc-v2 (`docker run -d` of the same rootfs, imported). Every run
 * starts one more container and samples its supervisor; all of them stay up until the end, so
 * the numbers are per container among several.
 */
export const shimRss: Scenario = {
  name: 'shim-rss',
  description:
    'RSS of the supervisor of one idle container: berth-shim vs conmon (podman) vs containerd-shim (docker)',
  engines: ['berth', 'docker', 'podman'],
  unit: 'KiB',
  target: 'berth-shim <= 2 MiB and <= 1/5 of containerd-shim',
  async setup(ctx, engine) {
    const bundle = join(ctx.scratch, 'bundle');
    if (!existsSync(bundle)) writeRuntimeBundle(bundle, ['sleep', '100000']);
    if (engine === 'berth')
      rt = createRuntime({ root: join(ctx.scratch, 'berth'), cgroups: await createCgroupDriver() });
    if (engine === 'docker')
      await run('sh', [
        '-c',
        `tar -C ${join(bundle, 'rootfs')} -c . | ${ctx.docker!.join(' ')} import - ${IMAGE}`,
      ]);
  },
  step(ctx, engine) {
    const rootfs = join(ctx.scratch, 'bundle', 'rootfs');
    if (engine === 'berth')
      return {
        run: async () => {
          const id = `bench-rss-${process.pid}-${n++}`;
          await rt!.create(id, join(ctx.scratch, 'bundle'));
          const { shimPid } = await rt!.start(id);
          started.berth.push(id);
          await settle();
          return rssKiB(shimPid);
        },
      };
    if (engine === 'podman')
      return {
        run: async () => {
          const { stdout } = await run(ctx.podman![0]!, [
            // this machine: crun 1.8 refuses hybrid cgroups, and podman's default rlimits are
            // above what a root without CAP_SYS_RESOURCE may set; conmon is the same either way
            '--runtime',
            'runc',
            'run',
            '-d',
            '--ulimit',
            'nofile=1024:1024',
            '--ulimit',
            'nproc=1024:1024',
            '--rootfs',
            rootfs,
            'sleep',
            '100000',
          ]);
          const id = stdout.trim();
          started.podman.push(id);
          await settle();
          const pid = await run(ctx.podman![0]!, ['inspect', '--format', '{{.State.ConmonPid}}', id]);
          return rssKiB(Number(pid.stdout.trim()));
        },
      };
    return {
      run: async () => {
        const { stdout } = await run(ctx.docker![0]!, ['run', '-d', IMAGE, 'sleep', '100000']);
        const id = stdout.trim();
        started.docker.push(id);
        await settle();
        // containerd-shim-runc-v2 -namespace moby -id <id> -address ...
        const ps = await run('ps', ['-eo', 'pid=,args=']);
        const line = ps.stdout
          .split('\n')
          .find((l) => l.includes('containerd-shim') && l.includes(`-id ${id}`));
        if (!line) throw new Error(`docker: no containerd-shim for ${id}`);
        return rssKiB(Number(line.trim().split(/\s+/)[0]));
      },
    };
  },
  async teardown(ctx, engine) {
    if (engine === 'berth') for (const id of started.berth.splice(0)) await rt!.delete(id, { force: true });
    if (engine === 'podman' && started.podman.length)
      await run(ctx.podman![0]!, ['rm', '-f', '-t', '0', ...started.podman.splice(0)]);
    if (engine === 'docker') {
      if (started.docker.length) await run(ctx.docker![0]!, ['rm', '-f', ...started.docker.splice(0)]);
      await run(ctx.docker![0]!, ['rmi', IMAGE]).catch(() => {});
    }
  },
};
