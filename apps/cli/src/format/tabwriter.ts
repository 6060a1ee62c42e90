/**
 * Elastic tabstops as Go's text/tabwriter (docker/cli's fork, which measures cells in terminal
 * columns): cells are tab-terminated, the text after the last tab of a line is not part of a
 * column, a column block is a run of consecutive lines that have a cell in that column, and its
 * width is the widest cell plus `padding`, at least `minWidth`. A line without tabs, or a form
 * feed, ends every block.
 */

/** Options of {@link tabwrite}; defaults are docker's table formatter: `NewWriter(out, 10, 1, 3, ' ', 0)`. */
export interface TabwriterOptions {
  /** Minimal cell width including padding (docker: 10). */
  minWidth?: number;
  /** Padding added to the widest cell of a column (docker: 3). */
  padding?: number;
  /** The padding character (docker: a space). */
  padChar?: string;
}

interface Cell {
  text: string;
  width: number;
}

/** Cell terminators: tab and vertical tab end a cell; newline and form feed also end the line. */
const TERMINATOR = /[\t\v\n\f]/g;

/**
 * Lays out tab-separated text in aligned columns, as docker's `table` formats are printed. The
 * text is cut at terminators with one regular-expression scan and `slice` (a character-by-
 * character loop over a 200-row table was the biggest cost of `berth images`).
 */
export function tabwrite(text: string, options: TabwriterOptions = {}): string {
  const minWidth = options.minWidth ?? 10;
  const padding = options.padding ?? 3;
  const padChar = options.padChar ?? ' ';
  let out = '';
  let lines: Cell[][] = [[]];

  const format = (line0: number, line1: number, widths: number[]): void => {
    const column = widths.length;
    let start = line0;
    for (let current = line0; current < line1; current++) {
      const line = lines[current] ?? [];
      if (column >= line.length - 1) continue;
      writeLines(start, current, widths);
      start = current;
      let width = minWidth;
      for (; current < line1; current++) {
        const l = lines[current] ?? [];
        if (column >= l.length - 1) break;
        const w = (l[column]?.width ?? 0) + padding;
        if (w > width) width = w;
      }
      format(start, current, [...widths, width]);
      start = current;
      current--;
    }
    writeLines(start, line1, widths);
  };

  const writeLines = (line0: number, line1: number, widths: number[]): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i] ?? [];
      for (let j = 0; j < line.length; j++) {
        const c = line[j] as Cell;
        out += c.text;
        const w = widths[j];
        if (w !== undefined && w > c.width) out += padChar.repeat(w - c.width);
      }
      if (i + 1 < lines.length) out += '\n';
    }
  };

  const flush = (): void => {
    format(0, lines.length, []);
    lines = [[]];
  };

  TERMINATOR.lastIndex = 0;
  let start = 0;
  for (let m = TERMINATOR.exec(text); m !== null; m = TERMINATOR.exec(text)) {
    const cell = text.slice(start, m.index);
    start = m.index + 1;
    const line = lines[lines.length - 1] as Cell[];
    line.push({ text: cell, width: runeCount(cell) });
    const ch = m[0];
    if (ch === '\n' || ch === '\f') {
      const ncells = line.length;
      lines.push([]);
      if (ch === '\f' || ncells === 1) flush();
    }
  }
  if (start < text.length) {
    const cell = text.slice(start);
    lines[lines.length - 1]?.push({ text: cell, width: runeCount(cell) });
  }
  flush();
  return out;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A cell's width as Go's text/tabwriter counts it: UTF-8 runes, not terminal columns
 * (docker's tables pad `名前` as two characters). Counting code points also keeps a display-width
 * library, with its Unicode tables built at load time, off every command's start.
 */
function runeCount(text: string): number {
  // without surrogates every UTF-16 unit is one code point
  if (!SURROGATE.test(text)) return text.length;
  let n = 0;
  for (const _ of text) n++;
  return n;
}
