/** The value types a flag can have. `string[]` is docker's repeatable `list` (`-e A -e B`); `duration` is Go's (`1m30s`), in milliseconds. */
export type FlagType = 'bool' | 'string' | 'string[]' | 'number' | 'duration';

/** One flag of a command, declared as data. */
export interface FlagSpec {
  /** Long name without dashes: `name` for `--name`. */
  name: string;
  /** One-letter shorthand without the dash: `e` for `-e`. */
  short?: string;
  /** The value type. */
  type: FlagType;
  /** Default value; bools default to false, lists to empty, strings to '' and numbers to 0. */
  default?: boolean | string | number | readonly string[];
  /** One-line help text shown in `--help`. */
  help: string;
  /** The value's name in `--help` (`string`, `list`, `int`, `duration` by default). */
  placeholder?: string;
  /** Accepted but not listed in `--help`. */
  hidden?: boolean;
}
