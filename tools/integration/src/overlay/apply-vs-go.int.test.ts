// Each fixture layer applied by berth, compared with the same bytes read by Go's archive/tar
// (docker's and containerd's reader): every entry Go lists is on disk with the type, mode, owner,
// mtime, content, link target and xattrs Go read (review of the synchronous tar reader, #4).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { buildFixtures, type FixtureSet, fixtureLayers, readTree } from '@berth/fixtures';
import { applyLayer } from '@berth/overlay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const GO_LISTER = `package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strings"
)

type entry struct {
	Name     string            \`json:"name"\`
	Type     string            \`json:"type"\`
	Mode     int64             \`json:"mode"\`
	Uid      int               \`json:"uid"\`
	Gid      int               \`json:"gid"\`
	Mtime    int64             \`json:"mtime"\`
	Linkname string            \`json:"linkname"\`
	Xattrs   map[string]string \`json:"xattrs"\`
	Sha256   string            \`json:"sha256"\`
	Size     int64             \`json:"size"\`
}

func main() {
	tr := tar.NewReader(os.Stdin)
	out := []entry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, tr); err != nil {
			panic(err)
		}
		x := map[string]string{}
		for k, v := range h.PAXRecords {
			if strings.HasPrefix(k, "SCHILY.xattr.") {
				x[k[len("SCHILY.xattr."):]] = base64.StdEncoding.EncodeToString([]byte(v))
			}
		}
		mtime := h.ModTime.Unix()
		if mtime < 0 {
			mtime = 0
		}
		out = append(out, entry{h.Name, string([]byte{h.Typeflag}), h.Mode, h.Uid, h.Gid, mtime, h.Linkname, x,
			hex.EncodeToString(sum.Sum(nil)), h.Size})
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`;

interface GoEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
  xattrs: Record<string, string>;
  sha256: string;
  size: number;
}

let fixtures: FixtureSet;
let work: string;

beforeAll(async () => {
  fixtures = await buildFixtures();
  work = mkdtempSync(`${tmpdir()}/berth-vs-go-`);
  writeFileSync(`${work}/lister.go`, GO_LISTER);
  execFileSync('go', ['build', '-o', `${work}/lister`, `${work}/lister.go`], {
    env: { ...process.env, GO111MODULE: 'off' },
    stdio: 'pipe',
  });
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const TYPES: Record<string, string> = {
  '0': 'file',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

const clean = (name: string): string =>
  `/${name
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/')}`;

describe('fixture layers: berth applies what Go reads', () => {
  it.each(['busybox', 'layers'] as const)('%s', async (name) => {
    const layers = fixtureLayers(fixtures.images[name], 'gzip');
    expect(layers.length).toBeGreaterThan(0);
    for (const [i, layer] of layers.entries()) {
      const tar = gunzipSync(readFileSync(layer.path));
      const go = JSON.parse(
        execFileSync(`${work}/lister`, { input: tar, encoding: 'utf8', maxBuffer: 256 << 20 }),
      ) as GoEntry[];
      const dir = `${work}/${name}-${i}`;
      mkdirSync(dir);
      await applyLayer({
        mounts: [{ type: 'bind', source: dir, target: '/', options: ['rbind'] }],
        stream: [tar],
        diffId: layer.diffId,
        sync: false,
      });
      const tree = readTree(dir);
      // the last entry of a path wins; whiteouts (nothing below a fresh root) leave nothing
      const want = new Map<string, GoEntry>();
      for (const e of go) {
        const path = clean(e.name);
        if (path === '/' || path.split('/').at(-1)?.startsWith('.wh.')) continue;
        want.set(path, e);
      }
      expect(want.size).toBeGreaterThan(0);
      for (const [path, e] of want) {
        const node = tree[path];
        expect(node, `${name} layer ${i}: ${path} missing`).toBeDefined();
        if (node === undefined) continue;
        const seen = { path, mode: node.mode, uid: node.uid, gid: node.gid, xattrs: node.xattrs ?? {} };
        const read = { path, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, xattrs: e.xattrs };
        if (e.type === '1') {
          // a hardlink: the same inode as its target
          expect(node.links, path).toContain(clean(e.linkname));
          continue;
        }
        if (e.type !== '2') expect(seen).toEqual(read);
        else expect([path, node.uid, node.gid]).toEqual([path, e.uid, e.gid]);
        expect([path, node.type]).toEqual([path, TYPES[e.type]]);
        expect([path, node.mtime]).toEqual([path, e.mtime]);
        if (e.type === '0') expect([path, node.size, node.sha256]).toEqual([path, e.size, e.sha256]);
        if (e.type === '2') expect([path, node.target]).toEqual([path, e.linkname]);
      }
      // nothing else: every other path is a parent directory of a listed one
      const parents = new Set<string>();
      for (const p of want.keys())
        for (let q = p; q.includes('/'); q = q.slice(0, q.lastIndexOf('/'))) parents.add(q);
      expect(Object.keys(tree).filter((p) => !want.has(p) && !parents.has(p))).toEqual([]);
    }
  });
});
