/** Small file helpers shared inside the package (not exported from the index). */
import { rename, writeFile } from 'node:fs/promises';

/**
 * Write-temp and rename without fsync: atomic for every reader and against a killed process,
 * not against power loss. For files that are worthless after a reboot: the launch description
 * (read by the shim before the container exists) and `state.json` (it names this boot's
 * processes and carries the boot ID; a reader treats a torn one as a shim that is gone).
 */
export async function writeFileReplace(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data, { mode: 0o644 });
  await rename(tmp, path);
}
