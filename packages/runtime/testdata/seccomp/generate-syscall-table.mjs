#!/usr/bin/env node
// Regenerates src/seccomp/syscalls.json from libseccomp's src/syscalls.csv (one row per
// syscall, one column per arch; "PNR" = not present on that arch). Usage:
//   node testdata/seccomp/generate-syscall-table.mjs path/to/syscalls.csv <libseccomp commit> > src/seccomp/syscalls.json
// x32 numbers are written with __X32_SYSCALL_BIT (0x40000000) set, as the kernel sees them.
import { readFileSync } from 'node:fs';

const [csvPath, commit] = process.argv.slice(2);
if (!csvPath || !commit) {
  process.stderr.write('usage: generate-syscall-table.mjs <syscalls.csv> <libseccomp commit>\n');
  process.exit(2);
}
const lines = readFileSync(csvPath, 'utf8').split('\n').filter(Boolean);
const header = lines[0].replace(/^#/, '').split(',');
const version = /\((.*)\)/.exec(header[0])?.[1] ?? '';
const ARCHES = ['x86', 'x86_64', 'x32', 'arm', 'aarch64'];
const tables = Object.fromEntries(ARCHES.map((a) => [a, {}]));
for (const line of lines.slice(1)) {
  const cols = line.split(',');
  const name = cols[0];
  for (const a of ARCHES) {
    const v = cols[header.indexOf(a)];
    if (v === undefined) throw new Error(`no column ${a}`);
    if (v === 'PNR') continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name}/${a}: bad number ${v}`);
    tables[a][name] = a === 'x32' ? (n | 0x40000000) >>> 0 : n;
  }
}
process.stdout.write(
  `${JSON.stringify(
    {
      source: `seccomp/libseccomp src/syscalls.csv at ${commit} (${version})`,
      arches: tables,
    },
    null,
    1,
  )}\n`,
);
