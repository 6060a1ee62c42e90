import { goTypeName, kindOf, mapEntries, sliceItems, structEntries } from './values.js';

/**
 * Go's `fmt` printing of values (`%v`, `Sprint`, `Sprintln`, `Sprintf`) for the value model in
 * values.ts: maps print as `map[a:1 b:2]` with sorted keys, slices as `[a b c]`, nil as `<nil>`,
 * floats in Go's shortest `%g` form (`1e+06`).
 */

const GO_MONTHS = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];

/** The exact decimal expansion of a finite positive double: digits (no trailing zeros) and the decimal point position. */
function exactDecimal(f: number): { digits: string; dp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, f);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed || '0', dp };
}

/** Rounds decimal digits to `n` significant digits, ties to even, as Go's strconv does. */
function roundDigits(digits: string, dp: number, n: number): { digits: string; dp: number } {
  if (n < 0) return { digits: '0', dp: 1 };
  if (digits.length <= n) return { digits, dp };
  const next = digits.charCodeAt(n) - 48;
  const rest = digits.slice(n + 1);
  const prev = n > 0 ? digits.charCodeAt(n - 1) - 48 : 0;
  const up = next > 5 || (next === 5 && (/[1-9]/.test(rest) || prev % 2 === 1));
  let kept = digits.slice(0, n);
  if (!up) {
    kept = kept.replace(/0+$/, '');
    return kept ? { digits: kept, dp } : { digits: '0', dp: 1 };
  }
  const arr = kept.split('').map(Number);
  let i = arr.length - 1;
  while (i >= 0 && arr[i] === 9) {
    arr[i] = 0;
    i--;
  }
  if (i < 0) return { digits: '1', dp: dp + 1 };
  arr[i] = (arr[i] ?? 0) + 1;
  return { digits: arr.join('').replace(/0+$/, '') || '0', dp };
}

/** Splits a finite non-negative float into shortest (or `precision`-rounded) decimal digits and a decimal point position. */
function decimalDigits(f: number, precision?: number): { digits: string; dp: number } {
  if (f === 0) return { digits: '0', dp: 1 };
  if (precision !== undefined) {
    const exact = exactDecimal(f);
    return roundDigits(exact.digits, exact.dp, precision);
  }
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(f.toExponential());
  if (!m) return { digits: '0', dp: 1 };
  const digits = ((m[1] ?? '') + (m[2] ?? '')).replace(/0+$/, '') || '0';
  return { digits, dp: Number(m[3]) + 1 };
}

function expSuffix(exp: number, upper: boolean): string {
  const sign = exp < 0 ? '-' : '+';
  const abs = Math.abs(exp);
  return (upper ? 'E' : 'e') + sign + (abs < 10 ? '0' : '') + String(abs);
}

function fixedFromDigits(digits: string, dp: number, decimals: number): string {
  let intPart: string;
  if (dp <= 0) intPart = '0';
  else if (dp >= digits.length) intPart = digits + '0'.repeat(dp - digits.length);
  else intPart = digits.slice(0, dp);
  if (decimals <= 0) return intPart;
  let frac = '';
  for (let i = 0; i < decimals; i++) {
    const idx = dp + i;
    frac += idx >= 0 && idx < digits.length ? digits[idx] : '0';
  }
  return `${intPart}.${frac}`;
}

function specialFloat(f: number): string | undefined {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Number.POSITIVE_INFINITY) return '+Inf';
  if (f === Number.NEGATIVE_INFINITY) return '-Inf';
  return undefined;
}

/**
 * Go's `strconv.FormatFloat(f, 'g', precision, 64)`; without a precision the shortest form
 * that round-trips, switching to an exponent at 1e+06 and below 1e-04 as `%v` does.
 */
export function formatGoFloatG(f: number, precision?: number, upper = false): string {
  const special = specialFloat(f);
  if (special) return special;
  const neg = f < 0 || Object.is(f, -0);
  const p = precision === 0 ? 1 : precision;
  const { digits, dp } = decimalDigits(Math.abs(f), p);
  let eprec = p ?? 6;
  if (p !== undefined && eprec > digits.length && digits.length >= dp) eprec = digits.length;
  const exp = dp - 1;
  let out: string;
  if (exp < -4 || exp >= eprec) {
    out = digits[0] + (digits.length > 1 ? `.${digits.slice(1)}` : '') + expSuffix(exp, upper);
  } else {
    out = fixedFromDigits(digits, dp, Math.max(digits.length - dp, 0));
  }
  return (neg ? '-' : '') + out;
}

/** Go's `%e` with a precision (default 6). */
export function formatGoFloatE(f: number, precision = 6, upper = false): string {
  const special = specialFloat(f);
  if (special) return special;
  const neg = f < 0 || Object.is(f, -0);
  const { digits, dp } = decimalDigits(Math.abs(f), precision + 1);
  const exp = f === 0 ? 0 : dp - 1;
  const frac = (digits.slice(1) + '0'.repeat(precision)).slice(0, precision);
  return (neg ? '-' : '') + (digits[0] ?? '0') + (precision > 0 ? `.${frac}` : '') + expSuffix(exp, upper);
}

/** Go's `%f` with a precision (default 6). */
export function formatGoFloatF(f: number, precision = 6): string {
  const special = specialFloat(f);
  if (special) return special;
  const neg = f < 0 || Object.is(f, -0);
  if (f === 0) return (neg ? '-' : '') + fixedFromDigits('0', 1, precision);
  const exact = exactDecimal(Math.abs(f));
  const { digits, dp } = roundDigits(exact.digits, exact.dp, exact.dp + precision);
  return (neg ? '-' : '') + fixedFromDigits(digits, dp, precision);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Go's `time.Time.String()` for a JavaScript date, in UTC: `2024-01-02 03:04:05.5 +0000 UTC`. */
export function formatGoTime(d: Date): string {
  if (Number.isNaN(d.getTime())) return '<invalid time>';
  const ms = d.getUTCMilliseconds();
  const frac = ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
  return (
    `${String(d.getUTCFullYear()).padStart(4, '0')}-${GO_MONTHS[d.getUTCMonth()]}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${frac} +0000 UTC`
  );
}

function stringerOf(v: object): string | undefined {
  const fn = (v as { String?: unknown }).String;
  if (typeof fn === 'function') {
    const out = fn.call(v);
    if (typeof out === 'string') return out;
  }
  return undefined;
}

/** Go's `%v` (or `%+v` with `plus`) of a value. */
export function formatGoValue(v: unknown, plus = false): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'bool':
      return v ? 'true' : 'false';
    case 'int':
      return String(v);
    case 'float':
      return formatGoFloatG(v as number);
    case 'string':
      return v as string;
    case 'slice':
      return `[${sliceItems(v)
        .map((x) => formatGoValue(x, plus))
        .join(' ')}]`;
    case 'map':
      return `map[${mapEntries(v as object)
        .map(([k, x]) => `${k}:${formatGoValue(x, plus)}`)
        .join(' ')}]`;
    case 'time':
      return formatGoTime(v as Date);
    case 'func':
      return '0x0';
    default: {
      const s = stringerOf(v as object);
      if (s !== undefined) return s;
      return `{${structEntries(v as object)
        .map(([k, x]) => (plus ? `${k}:${formatGoValue(x, plus)}` : formatGoValue(x, plus)))
        .join(' ')}}`;
    }
  }
}

/** Go's `fmt.Sprint`: operands joined with a space only where neither side is a string. */
export function goSprint(args: unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += formatGoValue(a);
    prevString = isString;
  });
  return out;
}

/** Go's `fmt.Sprintln`: operands joined with spaces, then a newline. */
export function goSprintln(args: unknown[]): string {
  return `${args.map((a) => formatGoValue(a)).join(' ')}\n`;
}

/** Go's `strconv.Quote`. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
      default:
        break;
    }
    if (ch === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  zero: boolean;
  space: boolean;
  width?: number;
  prec?: number;
  verb: string;
}

function padTo(s: string, spec: Spec, numeric: boolean): string {
  if (spec.width === undefined) return s;
  const len = [...s].length;
  if (len >= spec.width) return s;
  const n = spec.width - len;
  if (spec.minus) return s + ' '.repeat(n);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? (s[0] ?? '') : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

function badVerb(spec: Spec, arg: unknown): string {
  if (arg === null || arg === undefined) return `%!${spec.verb}(<nil>)`;
  return `%!${spec.verb}(${goTypeName(arg)}=${formatGoValue(arg)})`;
}

function signed(s: string, neg: boolean, spec: Spec): string {
  if (neg) return `-${s}`;
  if (spec.plus) return `+${s}`;
  if (spec.space) return ` ${s}`;
  return s;
}

function formatInt(v: number | bigint, spec: Spec): string {
  const big = BigInt(v);
  const neg = big < 0n;
  const abs = neg ? -big : big;
  let digits: string;
  switch (spec.verb) {
    case 'd':
    case 'v':
      digits = abs.toString(10);
      break;
    case 'x':
      digits = abs.toString(16);
      if (spec.sharp) digits = `0x${digits}`;
      break;
    case 'X':
      digits = abs.toString(16).toUpperCase();
      if (spec.sharp) digits = `0X${digits}`;
      break;
    case 'o':
      digits = abs.toString(8);
      if (spec.sharp) digits = `0${digits}`;
      break;
    case 'O':
      digits = `0o${abs.toString(8)}`;
      break;
    case 'b':
      digits = abs.toString(2);
      break;
    default:
      return badVerb(spec, v);
  }
  if (spec.prec !== undefined && digits.length < spec.prec) digits = digits.padStart(spec.prec, '0');
  return padTo(signed(digits, neg, spec), spec, spec.prec === undefined);
}

function formatFloat(f: number, spec: Spec): string {
  let s: string;
  switch (spec.verb) {
    case 'v':
    case 'g':
      s = formatGoFloatG(f, spec.prec);
      break;
    case 'G':
      s = formatGoFloatG(f, spec.prec, true);
      break;
    case 'e':
      s = formatGoFloatE(f, spec.prec);
      break;
    case 'E':
      s = formatGoFloatE(f, spec.prec, true);
      break;
    case 'f':
    case 'F':
      s = formatGoFloatF(f, spec.prec);
      break;
    default:
      return badVerb(spec, f);
  }
  const neg = s.startsWith('-');
  return padTo(signed(neg ? s.slice(1) : s, neg, spec), spec, true);
}

function formatString(s: string, spec: Spec): string {
  switch (spec.verb) {
    case 'v':
    case 's': {
      const cut = spec.prec === undefined ? s : [...s].slice(0, spec.prec).join('');
      return padTo(cut, spec, false);
    }
    case 'q':
      return padTo(goQuote(s), spec, false);
    case 'x':
    case 'X': {
      let hex = Buffer.from(s, 'utf8').toString('hex');
      if (spec.verb === 'X') hex = hex.toUpperCase();
      return padTo(hex, spec, false);
    }
    default:
      return badVerb(spec, s);
  }
}

function formatOne(arg: unknown, spec: Spec): string {
  if (spec.verb === 'T')
    return padTo(arg === undefined || arg === null ? '<nil>' : goTypeName(arg), spec, false);
  const kind = kindOf(arg);
  switch (kind) {
    case 'invalid':
    case 'nil':
      return spec.verb === 'v' || spec.verb === 's' ? padTo('<nil>', spec, false) : badVerb(spec, null);
    case 'bool':
      return spec.verb === 'v' || spec.verb === 't'
        ? padTo(arg ? 'true' : 'false', spec, false)
        : badVerb(spec, arg);
    case 'int':
      if (spec.verb === 'c') return padTo(String.fromCodePoint(Number(arg)), spec, false);
      if (spec.verb === 'q') return padTo(`'${String.fromCodePoint(Number(arg))}'`, spec, false);
      if (spec.verb === 'U') {
        return padTo(`U+${Number(arg).toString(16).toUpperCase().padStart(4, '0')}`, spec, false);
      }
      if ('eEfFgG'.includes(spec.verb)) return badVerb(spec, arg);
      return formatInt(arg as number | bigint, spec);
    case 'float':
      return formatFloat(arg as number, spec);
    case 'string':
      return formatString(arg as string, spec);
    case 'slice':
      if (spec.verb === 'v' || spec.verb === 's' || spec.verb === 'd' || spec.verb === 'q') {
        return padTo(
          `[${sliceItems(arg)
            .map((x) => formatOne(x, { ...spec, width: undefined }))
            .join(' ')}]`,
          spec,
          false,
        );
      }
      return badVerb(spec, arg);
    case 'map':
      if (spec.verb === 'v' || spec.verb === 's' || spec.verb === 'd' || spec.verb === 'q') {
        const inner = mapEntries(arg as object)
          .map(
            ([k, x]) =>
              `${formatOne(k, { ...spec, width: undefined })}:${formatOne(x, { ...spec, width: undefined })}`,
          )
          .join(' ');
        return padTo(`map[${inner}]`, spec, false);
      }
      return badVerb(spec, arg);
    default:
      if (spec.verb === 'v' || spec.verb === 's') return padTo(formatGoValue(arg, spec.plus), spec, false);
      return badVerb(spec, arg);
  }
}

/** Go's `fmt.Sprintf` for the verbs templates use: `%v %+v %s %q %d %x %X %o %b %c %U %e %f %g %t %T %%`. */
export function goSprintf(format: string, args: unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const ch = format[i];
    if (ch !== '%') {
      const next = format.indexOf('%', i);
      const end = next === -1 ? format.length : next;
      out += format.slice(i, end);
      i = end;
      continue;
    }
    i++;
    const spec: Spec = { minus: false, plus: false, sharp: false, zero: false, space: false, verb: '' };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') spec.minus = true;
      else if (f === '+') spec.plus = true;
      else if (f === '#') spec.sharp = true;
      else if (f === '0') spec.zero = !spec.minus;
      else if (f === ' ') spec.space = true;
      else break;
    }
    const readNum = (): number | undefined => {
      const start = i;
      while (i < format.length && /[0-9]/.test(format[i] ?? '')) i++;
      return i > start ? Number(format.slice(start, i)) : undefined;
    };
    if (format[i] === '*') {
      i++;
      const w = args[argi++];
      spec.width = typeof w === 'number' ? Math.trunc(w) : undefined;
      if (spec.width !== undefined && spec.width < 0) {
        spec.minus = true;
        spec.width = -spec.width;
      }
    } else {
      spec.width = readNum();
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '*') {
        i++;
        const p = args[argi++];
        spec.prec = typeof p === 'number' ? Math.trunc(p) : undefined;
      } else {
        spec.prec = readNum() ?? 0;
      }
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    spec.verb = verb;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(args[argi++], spec);
  }
  if (argi < args.length) {
    const extra = args
      .slice(argi)
      .map((a) => (a === null || a === undefined ? '<nil>' : `${goTypeName(a)}=${formatGoValue(a)}`))
      .join(', ');
    out += `%!(EXTRA ${extra})`;
  }
  return out;
}
