/**
 * `docker top CONTAINER [ps OPTIONS]`, as moby's daemon does it: run the host's `ps` with the
 * options (default `-ef`), find the PID column in its header, and keep the rows whose PID is
 * one of the container's processes (its cgroup's tasks). The last column (CMD) may hold spaces:
 * the fields beyond the header's count are joined back into it.
 */
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { BerthError } from '@berth/oci';
import { ContainerErrorCode } from './errors.js';
import type { ServiceInternals } from './internals.js';

/**
 * execFile, with `node:child_process` required by `top` only (the service imports this module
 * for every command); a require, as the CLI's `vm.Script` bundle has no loader for `import()`.
 */
function run(file: string, args: string[], opts: { maxBuffer?: number; signal?: AbortSignal }) {
  const cp = createRequire(import.meta.url ?? '/')(
    'node:child_process',
  ) as typeof import('node:child_process');
  return promisify(cp.execFile)(file, args, { ...opts, encoding: 'utf8' });
}

/** The Engine API's `ContainerTopResponse`. */
export interface ContainerTop {
  Titles: string[];
  Processes: string[][];
}

/**
 * Parses `ps` output, keeping the rows of `pids`. With `-T`/`-L` thread listings ps prints `-`
 * in the PID column of a thread row; moby then reads the pid from the second field.
 * @throws BerthError PS_FAILED when there is no PID column
 */
export function parsePs(output: string, pids: ReadonlySet<number>): ContainerTop {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0)
    throw new BerthError(ContainerErrorCode.PS_FAILED, "Couldn't find PID field in ps output", {
      input: { field: 'ps_args' },
    });
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const raw = fields[pidIndex] === '-' ? fields[1] : fields[pidIndex];
    const pid = Number(raw);
    if (!Number.isInteger(pid) || !pids.has(pid)) continue;
    const row = fields.slice(0, titles.length - 1);
    row.push(fields.slice(titles.length - 1).join(' '));
    processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}

/** Lists a running container's processes with `ps psArgs`. @throws CONTAINER_NOT_RUNNING, PS_FAILED */
export async function topContainer(
  s: ServiceInternals,
  ref: string,
  options: { psArgs?: string; signal?: AbortSignal } = {},
): Promise<ContainerTop> {
  const rt = await s.runtime();
  const rec = await s.read(ref);
  const live = await s.liveState(rt, rec);
  if (!live.Running)
    throw new BerthError(ContainerErrorCode.CONTAINER_NOT_RUNNING, `Container ${rec.Id} is not running`, {
      input: { ref },
    });
  const args = (options.psArgs ?? '-ef').split(/\s+/).filter((a) => a !== '');
  // the pids first: a process that exits meanwhile is simply missing from ps
  const pids = new Set(await rt.processes(rec.Id));
  let stdout: string;
  try {
    ({ stdout } = await run('ps', args, {
      maxBuffer: 64 * 1024 * 1024,
      ...(options.signal ? { signal: options.signal } : {}),
    }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new BerthError(
      ContainerErrorCode.PS_FAILED,
      `Error running ps: ${(e.stderr || e.message).trim()}`,
      { input: { field: 'ps_args' }, cause: err },
    );
  }
  const top = parsePs(stdout, pids);
  await s.event(rec, 'top');
  return top;
}
