/**
 * cgroup v1 freezer: writes FROZEN or THAWED into freezer.state and waits until the kernel
 * reports the state reached. Freezing passes through FREEZING while tasks are caught; like
 * runc, the write is repeated now and then (a task forking while freezing can escape one
 * pass), and a freeze that never completes is undone and reported.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '@berth/oci';
import { readControl, writeControl } from '../files.js';
import type { FreezerState } from '../types.js';

/** Polls before a freeze or thaw is given up (with the back-off below, about 20 s). */
const MAX_POLLS = 2000;

/** Reads freezer.state. */
export async function state(dir: string): Promise<FreezerState> {
  const s = (await readControl(dir, 'freezer.state')).trim();
  if (s === 'FROZEN') return 'frozen';
  if (s === 'FREEZING') return 'freezing';
  if (s === 'THAWED') return 'thawed';
  throw new BerthError(
    'CGROUP_READ_FAILED',
    `cgroup file ${dir}/freezer.state: unknown state "${s.slice(0, 20)}"`,
    {
      input: { field: 'freezer.state' },
    },
  );
}

/** Sets freezer.state to `want` and resolves once it reads back so. */
export async function set(dir: string, want: 'frozen' | 'thawed', signal?: AbortSignal): Promise<void> {
  const value = want === 'frozen' ? 'FROZEN' : 'THAWED';
  for (let i = 0; i < MAX_POLLS; i++) {
    signal?.throwIfAborted();
    if (i % 50 === 0) await writeControl(dir, 'freezer.state', value);
    if ((await state(dir)) === want) return;
    await sleep(Math.min(1 + i, 10), undefined, signal ? { signal } : {});
  }
  if (want === 'frozen') await writeControl(dir, 'freezer.state', 'THAWED').catch(() => {});
  throw new BerthError('CGROUP_FREEZE_TIMEOUT', `cgroup ${dir}: freezer did not reach ${value}`, {
    input: { field: 'freezer.state' },
  });
}
