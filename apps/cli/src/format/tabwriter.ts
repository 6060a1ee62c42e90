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

/** Lays out tab-separated text in aligned columns, as docker's `table` formats are printed. */
export function tabwrite(text: string, options: TabwriterOptions = {}): string {
  const minWidth = options.minWidth ?? 10;
  const padding = options.padding ?? 3;
  const padChar = options.padChar ?? ' ';
  let out = '';
  let lines: Cell[][] = [[]];
  let cell = '';

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
      line.forEach((c, j) => {
        out += c.text;
        const w = widths[j];
        if (w !== undefined) out += padChar.repeat(Math.max(w - c.width, 0));
      });
      if (i + 1 < lines.length) out += '\n';
    }
  };

  const flush = (): void => {
    if (cell.length > 0) {
      lines[lines.length - 1]?.push({ text: cell, width: runeCount(cell) });
      cell = '';
    }
    format(0, lines.length, []);
    lines = [[]];
  };

  for (const ch of text) {
    if (ch === '\t' || ch === '\v' || ch === '\n' || ch === '\f') {
      const line = lines[lines.length - 1] as Cell[];
      line.push({ text: cell, width: runeCount(cell) });
      cell = '';
      if (ch === '\n' || ch === '\f') {
        const ncells = line.length;
        lines.push([]);
        if (ch === '\f' || ncells === 1) flush();
      }
    } else {
      cell += ch;
    }
  }
  flush();
  return out;
}

/**
 * A cell's width as Go's text/tabwriter counts it: UTF-8 runes, not terminal columns
 * (docker's tables pad `名前` as two characters). Counting code points also keeps a display-width
 * library, with its Unicode tables built at load time, off every command's start.
 */
function runeCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
