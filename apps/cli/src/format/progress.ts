import type { Colors } from './color.js';
import { humanSize } from './units.js';

/**
 * Renders progress the way docker's jsonmessage does: on a terminal, one line per id that is
 * redrawn in place (cursor up, clear line, `id: Downloading [====>   ] 12.3MB/45.6MB`); otherwise
 * one plain line each time an id's status changes, with no bars and no counters.
 */

/** One progress update. Without an `id` it is a message of its own (`Digest: sha256:…`). */
export interface ProgressEvent {
  /** What the line is about (a short layer digest, a container name). */
  id?: string;
  /** `Downloading`, `Extracting`, `Pull complete`… */
  status: string;
  /** Bytes done so far. */
  current?: number;
  /** Bytes in all. */
  total?: number;
}

/** Where progress goes. */
export interface ProgressOutput {
  /** Writes a chunk of text. */
  write(chunk: string): unknown;
}

/** Options of {@link createProgressRenderer}. */
export interface ProgressRendererOptions {
  /** The stream to write to. */
  out: ProgressOutput;
  /** Redraw lines in place (a terminal) or print plain lines. */
  tty: boolean;
  /** Terminal width; bars are drawn only when it is above 110 columns, as docker does. Default 80. */
  columns?: number;
  /** Styles; errors red and completions green when colour is on. */
  colors?: Colors;
}

/** Renders a stream of {@link ProgressEvent}s. */
export interface ProgressRenderer {
  /** Renders one event. */
  update(event: ProgressEvent): void;
}

/** docker's JSONProgress.String(): `[=====>    ] 12.3MB/45.6MB`, or the counters alone when narrow. */
export function progressBar(current: number, total: number | undefined, columns: number): string {
  if (current <= 0 && (total ?? 0) <= 0) return '';
  if (total === undefined || total <= 0) return humanSize(current).padStart(8);
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  let bar = '';
  if (columns > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(50 - percentage, 0))}] `;
  const numbers =
    current > total
      ? humanSize(current).padStart(8)
      : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

const DONE = /complete|already exists|done|finished/i;
const FAILED = /error|failed/i;

/** Creates a renderer for the given output. */
export function createProgressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const { out, tty } = options;
  const columns = options.columns ?? 80;
  let ids = new Map<string, number>();
  const lastStatus = new Map<string, string>();
  const style = (status: string): string => {
    const c = options.colors;
    if (!c) return status;
    if (FAILED.test(status)) return c.red(status);
    if (DONE.test(status)) return c.green(status);
    return status;
  };

  return {
    update(event) {
      if (event.id === undefined) {
        ids = new Map();
        lastStatus.clear();
        out.write(`${style(event.status)}\n`);
        return;
      }
      if (!tty) {
        if (lastStatus.get(event.id) === event.status) return;
        lastStatus.set(event.id, event.status);
        out.write(`${event.id}: ${style(event.status)}\n`);
        return;
      }
      let line = ids.get(event.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(event.id, line);
        out.write('\n');
      }
      const diff = ids.size - line;
      const bar = event.current !== undefined ? progressBar(event.current, event.total, columns) : '';
      out.write(`\x1b[${diff}A\x1b[2K\r${event.id}: ${style(event.status)} ${bar}\r\x1b[${diff}B`);
    },
  };
}
