/**
 * docker's `--runtime`: berth runs containers under its own berth-shim (`berth`, the default)
 * or hands the bundle to an installed OCI runtime, `runc` or `crun`, found on the search path
 * (berth-shim still supervises it). `info` lists the ones found.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** berth's own runtime name (berth-shim). */
export const DEFAULT_RUNTIME = 'berth';

/** The OCI runtimes `--runtime` accepts besides berth's own. */
export const OCI_RUNTIMES = ['runc', 'crun'] as const;

/** The search list for runc and crun: the caller's PATH plus the sbin directories Debian installs them in. */
export function runtimeSearchPath(path: string | undefined): string[] {
  const dirs = (path ?? '').split(delimiter).filter((d) => d !== '');
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])
    if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}

/** The absolute path of an OCI runtime binary, or undefined when it is not installed. */
export async function findRuntime(name: string, dirs: readonly string[]): Promise<string | undefined> {
  for (const d of dirs) {
    const p = join(d, name);
    if (
      await access(p, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return p;
  }
  return undefined;
}

/** Every runtime available: berth's own, then runc and crun where installed. */
export async function availableRuntimes(dirs: readonly string[]): Promise<Record<string, { path: string }>> {
  const out: Record<string, { path: string }> = { [DEFAULT_RUNTIME]: { path: 'berth-shim' } };
  for (const name of OCI_RUNTIMES) {
    const p = await findRuntime(name, dirs);
    if (p) out[name] = { path: p };
  }
  return out;
}
