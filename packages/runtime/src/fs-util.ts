/** Small file helpers shared inside the package (not exported from the index). */
import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Write-temp, fsync, rename, fsync the directory (DESIGN.md, State on disk). */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Write-temp and rename without fsync: atomic for every reader and against a killed process,
 * not against power loss. For files consumed at once and worthless after a reboot (the launch
 * description, which the shim reads before the container exists).
 */
export async function writeFileReplace(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data, { mode: 0o644 });
  await rename(tmp, path);
}
