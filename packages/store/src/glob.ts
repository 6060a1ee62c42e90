/**
 * Go's `path.Match` pattern syntax, which docker's `--filter reference=` uses
 * (distribution/reference `FamiliarMatch`): `*` is any run of non-`/` characters, `?` one
 * non-`/` character, `[...]` a class (`[^...]` negated, `a-z` ranges), `\` escapes.
 * Hand-written because npm glob libraries (minimatch, picomatch) implement shell globs with
 * `**`, braces and extglobs, which docker does not accept.
 */
import { BerthError } from '@berth/oci';
import { StoreErrorCode } from './errors.js';

function bad(pattern: string, why: string): BerthError<'INVALID_FILTER'> {
  return new BerthError(StoreErrorCode.INVALID_FILTER, `filter pattern ${JSON.stringify(pattern)}: ${why}`, {
    input: { field: 'reference' },
  });
}

// With the `u` flag only syntax characters may be escaped: `-` only inside a class
// (`berth-bench/img` as a pattern threw "Invalid escape" before).
const special = /[.*+?^${}()|[\]\\/]/g;
const classSpecial = /[\]\\^-]/g;
const escapeChar = (c: string): string => c.replace(special, '\\$&');
const escapeClassChar = (c: string): string => c.replace(classSpecial, '\\$&');

/** Compiles a Go `path.Match` pattern into an anchored RegExp. Throws `INVALID_FILTER`. */
export function compileGlob(pattern: string): RegExp {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      i += 1;
      if (i >= pattern.length) throw bad(pattern, 'trailing backslash');
      out += escapeChar(pattern[i] as string);
    } else if (c === '[') {
      i += 1;
      let cls = '';
      if (pattern[i] === '^') {
        cls += '^';
        i += 1;
      }
      let first = true;
      while (i < pattern.length && (pattern[i] !== ']' || first)) {
        first = false;
        let lo = pattern[i] as string;
        if (lo === '\\') {
          i += 1;
          lo = pattern[i] ?? '';
        }
        if (lo === '') throw bad(pattern, 'unterminated character class');
        i += 1;
        if (pattern[i] === '-' && pattern[i + 1] !== undefined && pattern[i + 1] !== ']') {
          let hi = pattern[i + 1] as string;
          i += 2;
          if (hi === '\\') {
            hi = pattern[i] ?? '';
            i += 1;
          }
          if (hi === '' || hi < lo) throw bad(pattern, 'bad range in character class');
          cls += `${escapeClassChar(lo)}-${escapeClassChar(hi)}`;
        } else cls += escapeClassChar(lo);
      }
      if (pattern[i] !== ']' || cls === '' || cls === '^') throw bad(pattern, 'unterminated character class');
      // Go's classes never match '/'.
      out += `(?!/)[${cls}]`;
    } else out += escapeChar(c);
    i += 1;
  }
  return new RegExp(`^${out}$`, 'u');
}
