import { BerthError } from '@berth/oci';
import type { FlagSpec } from './flag-spec.js';
import { parseGoBool, parseGoDuration, parseGoInt } from './go-values.js';

/**
 * A command-line flag parser with spf13/pflag's grammar and error texts, which docker's users
 * know: `-it` grouped bools, `-eFOO=1` and `-e=FOO` attached values, `--name=x` and `--name x`,
 * `--rm=false`, repeatable lists, `--` ends flags, a lone `-` is an argument, and optionally
 * (docker's `SetInterspersed(false)`) flags end at the first argument.
 */

/** Codes of {@link FlagError}. */
export const FlagErrorCode = { FLAG_INVALID: 'FLAG_INVALID' } as const;
/** Union of {@link FlagErrorCode} values. */
export type FlagErrorCode = (typeof FlagErrorCode)[keyof typeof FlagErrorCode];

/** A bad flag; `message` is pflag's text (`unknown flag: --foo`). */
export class FlagError extends BerthError<FlagErrorCode> {
  /**
   * @param message - pflag's message
   * @param flag - the offending command-line word
   */
  constructor(message: string, flag: string) {
    super('FLAG_INVALID', message, { input: { field: flag } });
    this.name = 'FlagError';
  }
}

type FlagValue = boolean | string | number | string[];

/** Parsed flag values, typed by accessor. */
export class FlagValues {
  private readonly values = new Map<string, FlagValue>();
  private readonly changedNames = new Set<string>();

  /** @param specs - the flags these values are for; each starts at its default */
  constructor(private readonly specs: readonly FlagSpec[]) {
    for (const s of specs) this.values.set(s.name, defaultOf(s));
  }

  private spec(name: string, type: FlagSpec['type']): FlagSpec {
    const s = this.specs.find((f) => f.name === name);
    if (!s || s.type !== type) throw new Error(`flag --${name} is not declared as ${type}`);
    return s;
  }

  /** Value of a bool flag. */
  bool(name: string): boolean {
    this.spec(name, 'bool');
    return this.values.get(name) as boolean;
  }

  /** Value of a string flag. */
  string(name: string): string {
    this.spec(name, 'string');
    return this.values.get(name) as string;
  }

  /** Values of a repeatable list flag, in order. */
  list(name: string): string[] {
    this.spec(name, 'string[]');
    return [...(this.values.get(name) as string[])];
  }

  /** Value of an integer flag. */
  number(name: string): number {
    this.spec(name, 'number');
    return this.values.get(name) as number;
  }

  /** Value of a duration flag, in milliseconds. */
  duration(name: string): number {
    this.spec(name, 'duration');
    return this.values.get(name) as number;
  }

  /** Whether the flag was given on the command line. */
  changed(name: string): boolean {
    return this.changedNames.has(name);
  }

  /** Sets a flag from its text, as pflag's `Value.Set`. */
  set(spec: FlagSpec, text: string): void {
    let value: FlagValue;
    switch (spec.type) {
      case 'bool':
        value = parseGoBool(text);
        break;
      case 'string':
        value = text;
        break;
      case 'string[]':
        value = [...(this.changedNames.has(spec.name) ? (this.values.get(spec.name) as string[]) : []), text];
        break;
      case 'number':
        value = parseGoInt(text);
        break;
      case 'duration':
        value = parseGoDuration(text);
        break;
    }
    this.values.set(spec.name, value);
    this.changedNames.add(spec.name);
  }
}

function defaultOf(s: FlagSpec): FlagValue {
  switch (s.type) {
    case 'bool':
      return (s.default as boolean | undefined) ?? false;
    case 'string':
      return (s.default as string | undefined) ?? '';
    case 'string[]':
      return [...((s.default as readonly string[] | undefined) ?? [])];
    case 'number':
    case 'duration':
      return (s.default as number | undefined) ?? 0;
  }
}

/** How pflag names a flag in messages: `-n, --last` or `--name`. */
export function flagDisplayName(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

/** Options of {@link parseFlags}. */
export interface ParseFlagsOptions {
  /** The flags to recognise. */
  flags: readonly FlagSpec[];
  /** false: flags end at the first positional argument (docker's run/create/exec). Default true. */
  interspersed?: boolean;
}

/** The result of {@link parseFlags}. */
export interface ParsedFlags {
  /** The flag values. */
  values: FlagValues;
  /** Positional arguments, in order. */
  args: string[];
}

/** Parses argv words against flag specs; throws {@link FlagError} with pflag's message. */
export function parseFlags(argv: readonly string[], options: ParseFlagsOptions): ParsedFlags {
  const specs = options.flags;
  const interspersed = options.interspersed ?? true;
  const values = new FlagValues(specs);
  const args: string[] = [];
  const set = (spec: FlagSpec, text: string): void => {
    try {
      values.set(spec, text);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new FlagError(
        `invalid argument ${JSON.stringify(text)} for ${JSON.stringify(flagDisplayName(spec))} flag: ${why}`,
        flagDisplayName(spec),
      );
    }
  };
  let i = 0;
  while (i < argv.length) {
    const s = argv[i] as string;
    i++;
    if (s.length === 0 || s[0] !== '-' || s.length === 1) {
      if (!interspersed) {
        args.push(s, ...argv.slice(i));
        break;
      }
      args.push(s);
      continue;
    }
    if (s[1] === '-') {
      if (s.length === 2) {
        args.push(...argv.slice(i));
        break;
      }
      const body = s.slice(2);
      if (body[0] === '-' || body[0] === '=') throw new FlagError(`bad flag syntax: ${s}`, s);
      const eq = body.indexOf('=');
      const name = eq === -1 ? body : body.slice(0, eq);
      const spec = specs.find((f) => f.name === name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`, s);
      if (eq !== -1) set(spec, body.slice(eq + 1));
      else if (spec.type === 'bool') set(spec, 'true');
      else if (i < argv.length) set(spec, argv[i++] as string);
      else throw new FlagError(`flag needs an argument: ${s}`, s);
      continue;
    }
    let shorts = s.slice(1);
    while (shorts.length > 0) {
      const c = shorts[0] as string;
      const spec = specs.find((f) => f.short === c);
      if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in -${shorts}`, s);
      if (shorts.length > 2 && shorts[1] === '=') {
        set(spec, shorts.slice(2));
        shorts = '';
      } else if (spec.type === 'bool') {
        set(spec, 'true');
        shorts = shorts.slice(1);
      } else if (shorts.length > 1) {
        set(spec, shorts.slice(1));
        shorts = '';
      } else if (i < argv.length) {
        set(spec, argv[i++] as string);
        shorts = '';
      } else {
        throw new FlagError(`flag needs an argument: '${c}' in -${shorts}`, s);
      }
    }
  }
  return { values, args };
}
