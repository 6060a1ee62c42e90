import type { TemplateFunc } from './exec.js';
import { goSprint, goSprintf, goSprintln } from './fmt.js';
import { byteLength, goTypeName, isTrue, kindOf, mapEntries, sliceItems, structEntries } from './values.js';

/**
 * The functions a `--format` template can call: Go's builtins (`index len printf eq ne lt le gt
 * ge and or not print println`) and docker/cli's templates.go (`json split join title lower
 * upper pad truncate`), plus docker's header variants used to render a table's header row.
 */

function encodeString(s: string): string {
  // encoding/json with SetEscapeHTML(false): like JSON.stringify, but U+2028/U+2029 escaped.
  return JSON.stringify(s)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Go's `encoding/json` encoding of a value: maps with sorted keys, structs in field order, nil as `null`. */
export function goJson(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
    case 'func':
      return 'null';
    case 'bool':
      return v ? 'true' : 'false';
    case 'int':
      return String(v);
    case 'float': {
      const f = v as number;
      if (!Number.isFinite(f)) throw new Error(`json: unsupported value: ${f}`);
      return JSON.stringify(f);
    }
    case 'string':
      return encodeString(v as string);
    case 'slice':
      if (v === null) return 'null';
      return `[${sliceItems(v).map(goJson).join(',')}]`;
    case 'time':
      return JSON.stringify((v as Date).toISOString().replace('.000Z', 'Z'));
    case 'map':
      return `{${mapEntries(v as object)
        .map(([k, x]) => `${encodeString(k)}:${goJson(x)}`)
        .join(',')}}`;
    default: {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return goJson(toJSON.call(v));
      return `{${structEntries(v as object)
        .map(([k, x]) => `${encodeString(k)}:${goJson(x)}`)
        .join(',')}}`;
    }
  }
}

type Basic = 'bool' | 'number' | 'string';

function basicKind(v: unknown): Basic | undefined {
  switch (kindOf(v)) {
    case 'bool':
      return 'bool';
    case 'int':
    case 'float':
      return 'number';
    case 'string':
      return 'string';
    default:
      return undefined;
  }
}

function toComparable(v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}

function eq(arg1: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth: boolean;
    if (k1 === undefined || k2 === undefined) {
      // Go compares other comparable values (nil, structs) by identity; slices and maps are not comparable.
      const bad = [arg1, arg].find((x) => kindOf(x) === 'slice' || kindOf(x) === 'map');
      if (bad !== undefined) throw new Error(`non-comparable type ${goTypeName(bad)}`);
      if ((arg1 === null || arg1 === undefined) !== (arg === null || arg === undefined) && k1 !== k2) {
        throw new Error('incompatible types for comparison');
      }
      truth = arg1 === arg || ((arg1 === null || arg1 === undefined) && (arg === null || arg === undefined));
    } else {
      if (k1 !== k2) throw new Error('incompatible types for comparison');
      truth = toComparable(arg1) === toComparable(arg);
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === undefined || k2 === undefined || k1 === 'bool' || k2 === 'bool')
    throw new Error('invalid type for comparison');
  if (k1 !== k2) throw new Error('incompatible types for comparison');
  return (toComparable(a) as number | string) < (toComparable(b) as number | string);
}

function length(item: unknown): number {
  switch (kindOf(item)) {
    case 'nil':
      throw new Error('len of nil pointer');
    case 'string':
      return byteLength(item as string);
    case 'slice':
      return sliceItems(item).length;
    case 'map':
      return item instanceof Map ? item.size : Object.keys(item as object).length;
    default:
      throw new Error(`len of type ${goTypeName(item)}`);
  }
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  let cur = item;
  if (cur === null || cur === undefined) throw new Error('index of untyped nil');
  for (const ix of indexes) {
    const kind = kindOf(cur);
    if (kind === 'slice' || kind === 'string') {
      if (kindOf(ix) !== 'int') throw new Error(`cannot index slice/array with type ${goTypeName(ix)}`);
      const n = Number(ix);
      if (kind === 'string') {
        const bytes = Buffer.from(cur as string, 'utf8');
        if (n < 0 || n >= bytes.length) throw new Error(`index out of range: ${n}`);
        cur = bytes[n];
        continue;
      }
      const items = sliceItems(cur);
      if (n < 0 || n >= items.length) throw new Error(`index out of range: ${n}`);
      cur = items[n];
    } else if (kind === 'map') {
      if (typeof ix !== 'string') {
        if (ix === null || ix === undefined) throw new Error('value is nil; should be of type string');
        throw new Error(`value has type ${goTypeName(ix)}; should be string`);
      }
      cur =
        cur instanceof Map
          ? cur.get(ix)
          : Object.hasOwn(cur as object, ix)
            ? (cur as Record<string, unknown>)[ix]
            : undefined;
      if (cur === undefined) cur = null;
    } else if (cur === null) {
      throw new Error('index of nil pointer');
    } else {
      throw new Error(`can't index item of type ${goTypeName(cur)}`);
    }
  }
  return cur;
}

/** Go's strings.Title: the first letter of each word upper-cased. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const sep = !/[\p{L}\p{Nd}_]/u.test(prev) && (prev.codePointAt(0) ?? 0) < 0x80 ? true : /\s/u.test(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

/** Go's strings.Split. */
function split(s: string, sep: string): string[] {
  if (sep === '') return [...s];
  return s.split(sep);
}

function truncate(s: string, n: number): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length < n) return s;
  return bytes.subarray(0, Math.max(n, 0)).toString('utf8');
}

function pad(s: string, prefix: number, suffix: number): string {
  if (s === '') return s;
  return ' '.repeat(Math.max(prefix, 0)) + s + ' '.repeat(Math.max(suffix, 0));
}

const builtins: Array<[string, TemplateFunc]> = [
  ['and', { params: ['any'], variadic: 'any', fn: () => undefined, special: 'and' }],
  ['or', { params: ['any'], variadic: 'any', fn: () => undefined, special: 'or' }],
  ['not', { params: ['any'], fn: (a) => !isTrue(a) }],
  ['len', { params: ['value'], fn: length }],
  ['index', { params: ['value'], variadic: 'value', fn: index }],
  ['print', { params: [], variadic: 'any', fn: (...a) => goSprint(a) }],
  ['println', { params: [], variadic: 'any', fn: (...a) => goSprintln(a) }],
  ['printf', { params: ['string'], variadic: 'any', fn: (f, ...a) => goSprintf(f as string, a) }],
  ['eq', { params: ['value'], variadic: 'value', fn: eq }],
  ['ne', { params: ['value', 'value'], fn: (a, b) => !eq(a, b) }],
  ['lt', { params: ['value', 'value'], fn: lt }],
  ['le', { params: ['value', 'value'], fn: (a, b) => lt(a, b) || eq(a, b) }],
  ['gt', { params: ['value', 'value'], fn: (a, b) => !lt(a, b) && !eq(a, b) }],
  ['ge', { params: ['value', 'value'], fn: (a, b) => !lt(a, b) }],
];

const dockerFuncs: Array<[string, TemplateFunc]> = [
  ['json', { params: ['any'], fn: goJson }],
  ['split', { params: ['string', 'string'], fn: (s, sep) => split(s as string, sep as string) }],
  [
    'join',
    { params: ['strings', 'string'], fn: (a, sep) => ((a as string[] | null) ?? []).join(sep as string) },
  ],
  ['title', { params: ['string'], fn: (s) => title(s as string) }],
  ['lower', { params: ['string'], fn: (s) => (s as string).toLowerCase() }],
  ['upper', { params: ['string'], fn: (s) => (s as string).toUpperCase() }],
  ['pad', { params: ['string', 'int', 'int'], fn: (s, p, x) => pad(s as string, p as number, x as number) }],
  ['truncate', { params: ['string', 'int'], fn: (s, n) => truncate(s as string, n as number) }],
];

/** docker's HeaderFunctions: in a table header these leave the column title intact. */
const headerFuncs: Array<[string, TemplateFunc]> = [
  ['json', { params: ['string'], fn: (s) => s }],
  ['split', { params: ['string', 'string'], fn: (s) => s }],
  ['join', { params: ['string', 'string'], fn: (s) => s }],
  ['title', { params: ['string'], fn: (s) => s }],
  ['lower', { params: ['string'], fn: (s) => s }],
  ['upper', { params: ['string'], fn: (s) => s }],
  ['truncate', { params: ['string', 'int'], fn: (s) => s }],
];

/** The functions of a normal `--format` template. */
export const TEMPLATE_FUNCS: ReadonlyMap<string, TemplateFunc> = new Map([...builtins, ...dockerFuncs]);

/** The functions used when rendering a table's header row (docker's HeaderFunctions). */
export const HEADER_FUNCS: ReadonlyMap<string, TemplateFunc> = new Map([
  ...builtins,
  ...dockerFuncs,
  ...headerFuncs,
]);
