/**
 * cgroup v2 freezer (kernel 5.2+): cgroup.freeze takes 1 or 0, and cgroup.events' `frozen`
 * line turns 1 once every task is stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '@berth/oci';
import { hasControl, parseFlatKeyed, readControl, writeControl } from '../files.js';
import type { FreezerState } from '../types.js';

const MAX_POLLS = 2000;

/** Reads the freezer state from cgroup.events (`frozen 1`). */
export async function state(dir: string): Promise<FreezerState> {
  const kv = parseFlatKeyed(await readControl(dir, 'cgroup.events'), 'cgroup.events');
  if (kv.frozen === 1) return 'frozen';
  if (!(await hasControl(dir, 'cgroup.freeze')))
    throw new BerthError('CGROUP_UNSUPPORTED', `cgroup ${dir}: no cgroup.freeze (kernel before 5.2)`, {
      input: { field: 'cgroup.freeze' },
    });
  return (await readControl(dir, 'cgroup.freeze')).trim() === '1' ? 'freezing' : 'thawed';
}

/** Writes cgroup.freeze and waits for cgroup.events to agree. */
export async function set(dir: string, want: 'frozen' | 'thawed', signal?: AbortSignal): Promise<void> {
  if (!(await hasControl(dir, 'cgroup.freeze'))) {
    await readControl(dir, 'cgroup.procs'); // CGROUP_NOT_FOUND when the cgroup is missing
    throw new BerthError('CGROUP_UNSUPPORTED', `cgroup ${dir}: no cgroup.freeze (kernel before 5.2)`, {
      input: { field: 'cgroup.freeze' },
    });
  }
  await writeControl(dir, 'cgroup.freeze', want === 'frozen' ? '1' : '0');
  for (let i = 0; i < MAX_POLLS; i++) {
    signal?.throwIfAborted();
    const frozen = parseFlatKeyed(await readControl(dir, 'cgroup.events'), 'cgroup.events').frozen === 1;
    if (frozen === (want === 'frozen')) return;
    await sleep(Math.min(1 + i, 10), undefined, signal ? { signal } : {});
  }
  if (want === 'frozen') await writeControl(dir, 'cgroup.freeze', '0').catch(() => {});
  throw new BerthError(
    'CGROUP_FREEZE_TIMEOUT',
    `cgroup ${dir}: cgroup.events did not report frozen ${want === 'frozen' ? 1 : 0}`,
    {
      input: { field: 'cgroup.freeze' },
    },
  );
}
