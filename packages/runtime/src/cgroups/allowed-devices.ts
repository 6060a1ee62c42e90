/**
 * The device rules every OCI runtime adds after the spec's own. runc appends
 * `specconv.AllowedDevices` to each container's device cgroup (libcontainer/specconv), so a
 * docker container can mknod any node and open the terminal devices — `/dev/ptmx` (5:2) and
 * its `/dev/pts/N` (136:*) — and /dev/net/tun, while docker's spec lists only the plain nodes
 * (moby oci/defaults.go). berth-shim does what runc does, so `-t` works under a device cgroup.
 */
import type { LinuxDeviceCgroup, LinuxResources } from '@berth/oci';

/** runc's AllowedDevices, in its order. */
export const RUNC_ALLOWED_DEVICES: readonly LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

/** The resources with runc's allowed devices after the spec's rules (none added without rules). */
export function withAllowedDevices(resources: LinuxResources | undefined): LinuxResources | undefined {
  if (!resources?.devices?.length) return resources;
  return { ...resources, devices: [...resources.devices, ...RUNC_ALLOWED_DEVICES] };
}
