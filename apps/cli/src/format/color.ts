/** Minimal ANSI styling that is on only for a terminal and off whenever `NO_COLOR` is set (no-color.org). */

/** A stream as far as colour decisions need it. */
export interface ColorTarget {
  /** Whether the stream is a terminal. */
  isTTY?: boolean;
}

/** The styles the CLI uses; each returns its input unchanged when colour is off. */
export interface Colors {
  /** Whether colour is on. */
  readonly enabled: boolean;
  /** Red, for errors. */
  red(s: string): string;
  /** Green, for completed steps. */
  green(s: string): string;
  /** Yellow, for warnings. */
  yellow(s: string): string;
  /** Bold, for headings. */
  bold(s: string): string;
}

/** Whether to colour output written to `stream` under environment `env`: a TTY and no non-empty `NO_COLOR`. */
export function colorEnabled(
  stream: ColorTarget,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const noColor = env.NO_COLOR;
  if (noColor !== undefined && noColor !== '') return false;
  return stream.isTTY === true;
}

/** Returns the styles for a stream. */
export function createColors(options: { enabled: boolean }): Colors {
  const wrap =
    (open: number, close: number) =>
    (s: string): string =>
      options.enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  return {
    enabled: options.enabled,
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    bold: wrap(1, 22),
  };
}
