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
});
