import { BerthError } from '@berth/oci';

/**
 * docker's `--filter key=value` flags (`filters.ParseFlag`): the key is what comes before the
 * first `=`, the value everything after it (it may hold more `=`: `label=a=b`).
 */

/** Splits one `--filter` value. Throws INVALID_FILTER naming it when it has no `key=`. */
export function splitFilter(filter: string): [key: string, value: string] {
  const eq = filter.indexOf('=');
  if (eq <= 0)
    throw new BerthError('INVALID_FILTER', `bad format of filter (expected name=value)`, {
      input: { field: filter },
    });
  return [filter.slice(0, eq), filter.slice(eq + 1)];
}

/** The `--filter` values grouped by key, in the order given (`ps`, `events`). */
export function groupFilters(list: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of list) {
    const [k, v] = splitFilter(f);
    out[k] = [...(out[k] ?? []), v];
  }
  return out;
}
