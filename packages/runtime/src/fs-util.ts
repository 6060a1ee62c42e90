/** Small file helpers shared inside the package (not exported from the index). */
import { open, rename } from 'node:fs/promises';
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
