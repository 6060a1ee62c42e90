import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSpec } from '@berth/runtime';

/**
 * An OCI bundle for the runtime scenarios: a rootfs of Debian's static busybox with its applet
 * links, and the config.json berth's buildSpec writes for `args` (docker's defaults: caps,
 * masks, seccomp profile, namespaces). The same bundle is run by berth, crun and runc.
 */
export function writeRuntimeBundle(dir: string, args: string[]): string {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root'])
    mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(buildSpec({ Cmd: args }, { hostname: 'bench' })));
  return dir;
}
