// Test support (not exported): reads a directory into the fixtures' expected-tree shape.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One path as lstat and getfattr see it. */
export interface SeenNode {
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block';
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  xattrs?: Record<string, string>;
  links?: string[];
  mtime: number;
}

/** Every xattr under `root` (getfattr -R, not following symlinks), path → name → base64. */
function allXattrs(root: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  const text = execFileSync(
    'getfattr',
    ['-R', '-h', '-d', '-m', '-', '-e', 'base64', '--absolute-names', root],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) current = line.slice(8);
    else if (current !== undefined && line.includes('=')) {
      const eq = line.indexOf('=');
      const name = line.slice(0, eq);
      if (name.startsWith('trusted.overlay.')) continue;
      const v = line.slice(eq + 1);
      const rec = out.get(current) ?? {};
      rec[name] = v.startsWith('0s') ? v.slice(2) : Buffer.from(v.replace(/^"|"$/g, '')).toString('base64');
      out.set(current, rec);
    }
  }
  return out;
}

/** Walks `root` into absolute path → node, hardlinks grouped by inode. */
export function readTree(root: string): Record<string, SeenNode> {
  const out: Record<string, SeenNode> = {};
  const inodes = new Map<number, string[]>();
  const xattrs = allXattrs(root);
  const visit = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      const p = `${abs}/${name}`;
      const r = `${rel}/${name}`;
      const st = lstatSync(p);
      const type = st.isFile()
        ? 'file'
        : st.isDirectory()
          ? 'dir'
          : st.isSymbolicLink()
            ? 'symlink'
            : st.isFIFO()
              ? 'fifo'
              : st.isCharacterDevice()
                ? 'char'
                : 'block';
      const node: SeenNode = {
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: Math.floor(st.mtimeMs / 1000),
      };
      if (type === 'file') {
        node.size = st.size;
        node.sha256 = createHash('sha256').update(readFileSync(p)).digest('hex');
        if (st.nlink > 1) inodes.set(st.ino, [...(inodes.get(st.ino) ?? []), r]);
      }
      if (type === 'symlink') node.target = readlinkSync(p);
      const x = xattrs.get(p);
      if (x !== undefined)
        node.xattrs = Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)));
      out[r] = node;
      if (type === 'dir') visit(p, r);
    }
  };
  visit(root, '');
  for (const paths of inodes.values()) for (const p of paths) (out[p] as SeenNode).links = [...paths].sort();
  return out;
}

/** Drops `mtime`. */
export function withoutTimes(tree: Record<string, SeenNode>): Record<string, Omit<SeenNode, 'mtime'>> {
  return Object.fromEntries(Object.entries(tree).map(([k, { mtime: _m, ...rest }]) => [k, rest]));
}
