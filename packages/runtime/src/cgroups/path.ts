/**
 * Cgroup paths: where a container's cgroup lives inside each hierarchy. docker's cgroupfs
 * default is `/docker/<id>`; berth's is `/berth/<id>`, or the spec's `linux.cgroupsPath`.
 */
import type { Spec } from '@berth/oci';
import { BerthError } from '@berth/oci';

/** The parent of containers' cgroups when the spec names none. */
export const DEFAULT_CGROUP_PARENT = '/berth';

const COMPONENT = /^[A-Za-z0-9_.@+=-]{1,255}$/;

/**
 * Checks a cgroup path from hostile input and returns it normalised (no trailing slash). It
 * must be absolute, below the root, without `.`/`..` components, and not systemd-style
 * (`slice:prefix:name` belongs to the systemd driver, which berth does not have).
 *
 * @throws BerthError CGROUP_PATH_INVALID naming the path
 */
export function validateCgroupPath(path: string, field = 'linux.cgroupsPath'): string {
  const fail = (why: string) =>
    new BerthError('CGROUP_PATH_INVALID', `cgroup path "${path.slice(0, 200)}": ${why}`, {
      input: { field },
    });
  if (path.includes(':')) throw fail('systemd-style slice:prefix:name paths need the systemd driver');
  if (!path.startsWith('/')) throw fail('must be absolute (relative paths are not supported)');
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) throw fail('must not be the root cgroup');
  for (const p of parts) {
    if (p === '.' || p === '..') throw fail('must not contain . or .. components');
    if (!COMPONENT.test(p))
      throw fail(`component "${p.slice(0, 60)}" has characters outside [A-Za-z0-9_.@+=-]`);
  }
  return `/${parts.join('/')}`;
}

/**
 * The cgroup path of a container: the spec's `linux.cgroupsPath` when set, else
 * `/berth/<id>`.
 *
 * @throws BerthError CGROUP_PATH_INVALID
 */
export function containerCgroupPath(id: string, spec?: Pick<Spec, 'linux'>): string {
  const custom = spec?.linux?.cgroupsPath;
  if (custom !== undefined && custom !== '') return validateCgroupPath(custom);
  return validateCgroupPath(`${DEFAULT_CGROUP_PARENT}/${id}`, 'id');
}
