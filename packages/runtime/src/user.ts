/**
 * Resolving docker's `--user` (`uid[:gid]` or `name[:group]`) and `--group-add` against an
 * image's /etc/passwd and /etc/group, as moby/sys/user GetExecUser does. It takes the files'
 * contents, not paths, so it does no I/O.
 */
import { BerthError } from '@berth/oci';

/** Error codes thrown by {@link resolveUser}. */
export const UserErrorCode = {
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  GROUP_NOT_FOUND: 'GROUP_NOT_FOUND',
} as const;
/** Union of {@link UserErrorCode} values. */
export type UserErrorCode = (typeof UserErrorCode)[keyof typeof UserErrorCode];

/** The resolved identity of the container's process. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: the primary gid first (containerd/moby since CVE-2023-25173), then
   * the groups listing the user (only when no group was given), then `--group-add`. */
  additionalGids: number[];
  /** The passwd home, "/" when the user is not in passwd (runc sets HOME from it). */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;
const numeric = (s: string) => /^\d+$/.test(s) && Number(s) <= MAX_ID;

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 7 || !numeric(f[2]!) || !numeric(f[3]!)) continue; // malformed lines are skipped, as libc does
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' });
  }
  return out;
}

function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4 || !numeric(f[2]!)) continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) });
  }
  return out;
}

/**
 * Resolves `user` (docker's `--user`, or the image's `User`) in the given passwd and group
 * file contents (missing files are empty).
 *
 * @throws BerthError USER_NOT_FOUND for a name not in passwd, GROUP_NOT_FOUND for a group name
 *   not in group
 */
export function resolveUser(
  user: string,
  files: { passwd?: string; group?: string } = {},
  groupAdd: readonly string[] = [],
): ResolvedUser {
  const passwd = parsePasswd(files.passwd ?? '');
  const groups = parseGroup(files.group ?? '');
  const [userArg = '', groupArg = ''] = user.split(/:(.*)/s);
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = '';
  const byName = passwd.find((p) => p.name === (userArg === '' ? 'root' : userArg));
  const entry = byName ?? (numeric(userArg) ? passwd.find((p) => p.uid === Number(userArg)) : undefined);
  if (entry) {
    ({ uid, gid, home, name } = entry);
  } else if (numeric(userArg)) {
    uid = Number(userArg);
  } else if (userArg !== '') {
    throw new BerthError('USER_NOT_FOUND', `user "${userArg}": no matching entries in passwd file`, {
      input: { field: 'user' },
    });
  }
  const sgids: number[] = [];
  if (groupArg !== '') {
    const g =
      groups.find((x) => x.name === groupArg) ??
      (numeric(groupArg) ? groups.find((x) => x.gid === Number(groupArg)) : undefined);
    if (g) gid = g.gid;
    else if (numeric(groupArg)) gid = Number(groupArg);
    else
      throw new BerthError('GROUP_NOT_FOUND', `group "${groupArg}": no matching entries in group file`, {
        input: { field: 'user' },
      });
  } else if (name !== '') {
    for (const g of groups) if (g.members.includes(name)) sgids.push(g.gid);
  }
  for (const a of groupAdd) {
    const g = groups.find((x) => x.name === a);
    if (g) sgids.push(g.gid);
    else if (numeric(a)) sgids.push(Number(a));
    else
      throw new BerthError('GROUP_NOT_FOUND', `group "${a}": no matching entries in group file`, {
        input: { field: 'groupAdd' },
      });
  }
  const additionalGids = [...new Set([gid, ...sgids])];
  return { uid, gid, additionalGids, home };
}
