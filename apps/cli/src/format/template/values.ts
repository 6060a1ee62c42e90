/**
 * How JavaScript values stand in for Go values inside the template interpreter.
 *
 * - `undefined` is Go's invalid `reflect.Value` (a missing map key): it prints as `<no value>`.
 * - `null` is a nil interface or pointer: it prints as `<nil>`.
 * - integral numbers and bigints are Go `int`, other numbers are `float64`.
 * - arrays (and typed arrays) are slices.
 * - plain objects (prototype `Object.prototype` or `null`) and `Map`s are maps: they print as
 *   `map[k:v]` with sorted keys and a missing key is `<no value>`, as with Go's `map[string]any`.
 * - any other object (a class instance) is a struct: it prints as `{v1 v2}` in field order, a
 *   missing field is an error, and functions on it are methods.
 * - `Date` is Go's `time.Time`.
 */

/** The kind of a value, in Go's reflect vocabulary. */
export type GoKind =
  | 'invalid'
  | 'nil'
  | 'bool'
  | 'int'
  | 'float'
  | 'string'
  | 'slice'
  | 'map'
  | 'struct'
  | 'time'
  | 'func';

/** Returns the Go kind that a JavaScript value stands for. */
export function kindOf(v: unknown): GoKind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'string':
      return 'string';
    case 'function':
      return 'func';
    case 'symbol':
      return 'invalid';
    default:
      break;
  }
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return 'slice';
  if (v instanceof Date) return 'time';
  if (v instanceof Map) return 'map';
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return 'map';
  return 'struct';
}

/** Go's name for the type of a value, as it appears in template error messages. */
export function goTypeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
      return 'invalid';
    case 'nil':
      return 'interface {}';
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float':
      return 'float64';
    case 'string':
      return 'string';
    case 'slice': {
      const items = sliceItems(v);
      return items.length > 0 && items.every((x) => typeof x === 'string') ? '[]string' : '[]interface {}';
    }
    case 'map':
      return 'map[string]interface {}';
    case 'time':
      return 'time.Time';
    case 'func':
      return 'func';
    default:
      return (v as object).constructor?.name ?? 'struct';
  }
}

/** The entries of a map value, sorted by key as Go's fmt and `range` sort them. */
export function mapEntries(v: object): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> =
    v instanceof Map
      ? [...v.entries()].map(([k, val]) => [String(k), val])
      : Object.keys(v).map((k) => [k, (v as Record<string, unknown>)[k]]);
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The fields of a struct value in declaration (insertion) order; functions are methods, not fields. */
export function structEntries(v: object): Array<[string, unknown]> {
  return Object.keys(v)
    .map((k): [string, unknown] => [k, (v as Record<string, unknown>)[k]])
    .filter(([, val]) => typeof val !== 'function');
}

/** The elements of a slice value. */
export function sliceItems(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>);
  }
  return [];
}

/** Go's truth of a value (`if`, `with`, `and`, `or`, `not`): the zero value and empty collections are false. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return typeof v === 'bigint' ? v !== 0n : v !== 0;
    case 'string':
      return (v as string).length > 0;
    case 'slice':
      return sliceItems(v).length > 0;
    case 'map':
      return v instanceof Map ? v.size > 0 : Object.keys(v as object).length > 0;
    default:
      return true;
  }
}

/** The length of a string in UTF-8 bytes, as Go's `len` counts it. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
