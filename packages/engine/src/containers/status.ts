import { humanDuration } from '@berth/oci';
import type { ContainerStateInfo } from './types.js';

/** Go's zero time, docker's "never". */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** docker's `Status` text (container.State.String()). */
export function statusText(s: ContainerStateInfo, now = Date.now()): string {
  const since = (t: string) => humanDuration(now - Date.parse(t));
  if (s.Status === 'running' || s.Status === 'paused') {
    // docker's State.String: Paused wins over the health status
    const health = s.Health
      ? s.Health.Status === 'starting'
        ? ' (health: starting)'
        : ` (${s.Health.Status})`
      : '';
    return `Up ${since(s.StartedAt)}${s.Paused ? ' (Paused)' : health}`;
  }
  if (s.Status === 'restarting') return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Status === 'dead') return 'Dead';
  if (s.Status === 'created') return 'Created';
  if (s.FinishedAt === ZERO_TIME) return '';
  return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
}
