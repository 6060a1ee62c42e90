// Test support (not exported): reads a directory into the fixtures' expected-tree shape.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { lgetxattrs } from '../xattr.js';

/** One path as lstat + getfattr see it (the fixtures' TreeNode, plus mtime). */
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

/** Walks `root` (not following symlinks) into absolute path → node, links grouped by inode. */
export function readTree(root: string): Record<string, SeenNode> {
  const out: Record<string, SeenNode> = {};
  const inodes = new Map<number, string[]>();
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
      const xattrs = [...lgetxattrs(p)].filter(([k]) => !k.startsWith('trusted.overlay.'));
      if (xattrs.length > 0) {
        node.xattrs = Object.fromEntries(
          xattrs.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.toString('base64')]),
        );
      }
      out[r] = node;
      if (type === 'dir') visit(p, r);
    }
  };
  visit(root, '');
  for (const paths of inodes.values()) for (const p of paths) out[p]!.links = [...paths].sort();
  return out;
}

/** Drops `mtime` (the expected tree keeps one mtime for the whole image). */
export function withoutTimes(tree: Record<string, SeenNode>): Record<string, Omit<SeenNode, 'mtime'>> {
  return Object.fromEntries(Object.entries(tree).map(([k, { mtime: _m, ...rest }]) => [k, rest]));
}
