import { describe, expect, it } from 'vitest';
import { tabwrite } from './tabwriter.js';

// Expectations are Go's text/tabwriter output with docker's parameters (10, 1, 3, ' ', 0).
describe('tabwrite', () => {
  it('aligns a docker ps style table', () => {
    const input =
      'CONTAINER ID\tIMAGE\tNAMES\nabcdef012345\tbusybox:latest\tweb\n0123\tx\tdb-very-long-name\n';
    expect(tabwrite(input)).toBe(
      'CONTAINER ID   IMAGE            NAMES\n' +
        'abcdef012345   busybox:latest   web\n' +
        '0123           x                db-very-long-name\n',
    );
  });

  it('starts a new column block after a line with fewer cells', () => {
    expect(tabwrite('A\tB\nshort\nlonger cell\tz\tq\n\tempty first\n')).toBe(
      'A         B\nshort\nlonger cell   z         q\n              empty first\n',
    );
  });

  it('ends blocks at a line without tabs', () => {
    expect(tabwrite('ID\tSIZE\n1\t2\nno tabs here\nX\tY\n')).toBe(
      'ID        SIZE\n1         2\nno tabs here\nX         Y\n',
    );
  });

  it('pads empty cells and keeps blank lines', () => {
    expect(tabwrite('a\tb\tc\n\n1\t\t3\n')).toBe('a         b         c\n\n1                   3\n');
  });

  it("measures cells in runes, as Go's tabwriter does (not terminal columns)", () => {
    expect(tabwrite('名前\tX\nab\tY\n')).toBe('名前        X\nab        Y\n');
  });

  it('writes trailing text without a newline as is', () => {
    expect(tabwrite('a\tb')).toBe('a         b');
  });
  it('counts a character outside the BMP (a surrogate pair) as one rune', () => {
    expect(tabwrite('\u{1F600}x\tA\nabcdefghijk\tB\n')).toBe('\u{1F600}x            A\nabcdefghijk   B\n');
  });

  it('ends every block at a form feed, and a vertical tab ends a cell', () => {
    expect(tabwrite('long cell here\tA\fx\vB\n')).toBe('long cell here   A\nx         B\n');
  });

  it('aligns a 300-row table in one block', () => {
    const rows = Array.from({ length: 300 }, (_, i) => `repo/${'x'.repeat(i % 17)}\t${i}\tsha256:${i}\n`);
    const out = tabwrite(`REPOSITORY\tTAG\tID\n${rows.join('')}`).split('\n');
    expect(out).toHaveLength(302);
    expect(out[0]).toBe(`REPOSITORY${' '.repeat(14)}TAG       ID`);
    expect(out[17]).toBe(`repo/${'x'.repeat(16)}   16        sha256:16`);
    expect(new Set(out.slice(1, 301).map((l) => l.indexOf('sha256:')))).toEqual(new Set([34]));
  });
});
