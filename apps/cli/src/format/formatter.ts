import { tabwrite } from './tabwriter.js';
import { compileTemplate, type Template } from './template.js';

/**
 * docker's formatter.Context: how `--format` renders a list of records. `table …` prints an
 * upper-case header row and aligns columns; `json` prints one JSON object per line; any other
 * text is a Go template run once per record; `\t` and `\n` written literally in the format are
 * tabs and newlines.
 */

/** The reserved format names. */
export const FormatKey = { TABLE: 'table', JSON: 'json' } as const;

/** Options of {@link renderList}. */
export interface ListFormatOptions {
  /** The user's `--format`; empty means `defaultFormat`. */
  format: string;
  /** The command's default, a `table …` format (docker's `defaultTableFormat`). */
  defaultFormat: string;
  /**
   * Column titles by field name (`{ ID: 'CONTAINER ID' }`); a field without one gets its name in
   * upper case with words split (`CreatedAt` → `CREATED AT`).
   */
  headers?: Readonly<Record<string, string>>;
}

/** Whether a format is a `table` format. */
export function isTableFormat(format: string): boolean {
  return format.startsWith(FormatKey.TABLE);
}

/** Turns a user format into the template source docker runs (docker's `preFormat`). */
export function templateSource(format: string): string {
  let f = format;
  if (isTableFormat(f)) f = f.slice(FormatKey.TABLE.length);
  else if (f === FormatKey.JSON) f = '{{json .}}';
  f = f.replace(/^ +| +$/g, '');
  return f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function defaultHeader(field: string): string {
  return field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toUpperCase();
}

/** A map-like object whose every field is its column title, for rendering the header row. */
function headerContext(headers: Readonly<Record<string, string>>): Record<string, string> {
  return new Proxy(Object.create(null) as Record<string, string>, {
    get: (_t, key) => (typeof key === 'string' ? (headers[key] ?? defaultHeader(key)) : undefined),
    has: (_t, key) => typeof key === 'string',
    ownKeys: () => Object.keys(headers),
    getOwnPropertyDescriptor: (_t, key) =>
      typeof key === 'string' && key in headers
        ? { value: headers[key], enumerable: true, configurable: true, writable: false }
        : undefined,
  });
}

/** Renders records with a list format (`ps`, `images`, `volume ls`…). Throws `TemplateError`. */
export function renderList(records: readonly unknown[], options: ListFormatOptions): string {
  const format =
    options.format === '' || options.format === FormatKey.TABLE ? options.defaultFormat : options.format;
  const tmpl: Template = compileTemplate(templateSource(format));
  let body = '';
  for (const r of records) body += `${tmpl.execute(r)}\n`;
  if (!isTableFormat(format)) return body;
  const header = tmpl.executeHeader(headerContext(options.headers ?? {}));
  return tabwrite(`${header}\n${body}`);
}

/** Renders one object with a format (`version`, `inspect`): `json` is `{{json .}}`; adds the final newline. */
export function renderObject(data: unknown, format: string): string {
  const source = format === FormatKey.JSON ? '{{json .}}' : templateSource(format);
  return `${compileTemplate(source).execute(data)}\n`;
}

/** docker's `Ellipsis`: cut a string to `max` terminal columns, ending in `…` when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 0) return '';
  return `${chars.slice(0, max - 1).join('')}…`;
}
