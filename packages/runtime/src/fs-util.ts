/** Small file helpers shared inside the package (not exported from the index). */
import { renameSync, writeFileSync } from 'node:fs';

/**
 * Write-temp and rename without fsync: atomic for every reader and against a killed process,
 * not against power loss. For files that are worthless after a reboot: the launch description
 * (read by the shim before the container exists) and `state.json` (it names this boot's
 * processes and carries the boot ID; a reader treats a torn one as a shim that is gone).
 */
export async function writeFileReplace(path: string, data: string): Promise<void> {
  // synchronous system calls: a few kB, and each promise step (open, write, close, rename) would
  // be a thread-pool round trip of ~0.1 ms of CPU
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data, { mode: 0o644 });
  renameSync(tmp, path);
}
