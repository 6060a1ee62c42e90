import { isBerthError } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import type { FlagSpec } from '../commands/spec.js';
import { FlagError, parseFlags } from './flags.js';

// docker run's shape: pflag semantics, flags end at the image (SetInterspersed(false)).
const RUN: FlagSpec[] = [
  { name: 'interactive', short: 'i', type: 'bool', help: '' },
  { name: 'tty', short: 't', type: 'bool', help: '' },
  { name: 'detach', short: 'd', type: 'bool', help: '' },
  { name: 'rm', type: 'bool', help: '' },
  { name: 'env', short: 'e', type: 'string[]', help: '' },
  { name: 'name', type: 'string', help: '' },
  { name: 'last', short: 'n', type: 'number', default: -1, help: '' },
  { name: 'stop-timeout', type: 'duration', help: '' },
  { name: 'sig-proxy', type: 'bool', default: true, help: '' },
];

const run = (argv: string[], interspersed = false) => parseFlags(argv, { flags: RUN, interspersed });

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FlagError);
    expect(isBerthError(e, 'FLAG_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a FlagError');
}

describe('pflag grammar', () => {
  it('groups short bools: -it', () => {
    const p = run(['-it', 'busybox']);
    expect(p.values.bool('interactive')).toBe(true);
    expect(p.values.bool('tty')).toBe(true);
    expect(p.args).toEqual(['busybox']);
  });

  it('repeats list flags: -e A -e B', () => {
    expect(run(['-e', 'A=1', '-e', 'B=2', 'img']).values.list('env')).toEqual(['A=1', 'B=2']);
  });

  it('takes --flag=value and --flag value', () => {
    expect(run(['--name=web', 'img']).values.string('name')).toBe('web');
    expect(run(['--name', 'web', 'img']).values.string('name')).toBe('web');
  });

  it('takes an attached short value: -eFOO=1', () => {
    expect(run(['-eFOO=1', 'img']).values.list('env')).toEqual(['FOO=1']);
  });

  it('takes -e=FOO as the value FOO', () => {
    expect(run(['-e=FOO', 'img']).values.list('env')).toEqual(['FOO']);
  });

  it('ends a short group at a value flag: -ite FOO', () => {
    const p = run(['-ite', 'FOO', 'img']);
    expect(p.values.bool('tty')).toBe(true);
    expect(p.values.list('env')).toEqual(['FOO']);
    expect(p.args).toEqual(['img']);
  });

  it('sets bools explicitly: --rm=false, -d=false, --sig-proxy=false', () => {
    const p = run(['--rm=false', '-d=false', '--sig-proxy=false', 'img']);
    expect(p.values.bool('rm')).toBe(false);
    expect(p.values.bool('detach')).toBe(false);
    expect(p.values.bool('sig-proxy')).toBe(false);
    expect(p.values.changed('rm')).toBe(true);
  });

  it('does not take the next word as a bool value: --rm img', () => {
    const p = run(['--rm', 'img']);
    expect(p.values.bool('rm')).toBe(true);
    expect(p.args).toEqual(['img']);
  });

  it('gives everything after the image to the container command', () => {
    const p = run(['-d', 'busybox', 'sh', '-c', 'echo hi', '--rm', '--', '-x']);
    expect(p.values.bool('rm')).toBe(false);
    expect(p.args).toEqual(['busybox', 'sh', '-c', 'echo hi', '--rm', '--', '-x']);
  });

  it('parses flags after arguments when interspersed', () => {
    const p = run(['img', '--rm', 'cmd'], true);
    expect(p.values.bool('rm')).toBe(true);
    expect(p.args).toEqual(['img', 'cmd']);
  });

  it('treats -- as the end of flags and drops it', () => {
    expect(run(['--', '--rm', '-x'], true).args).toEqual(['--rm', '-x']);
    expect(run(['--rm', '--', 'img']).args).toEqual(['img']);
  });

  it('treats a lone - as an argument', () => {
    expect(run(['-', 'x'], true).args).toEqual(['-', 'x']);
  });

  it('takes a value that starts with a dash', () => {
    expect(run(['--name', '-weird', 'img']).values.string('name')).toBe('-weird');
  });

  it('keeps the last of a repeated string flag', () => {
    expect(run(['--name', 'a', '--name', 'b', 'img']).values.string('name')).toBe('b');
  });

  it('parses Go integers and durations', () => {
    const p = run(['-n', '0x10', '--stop-timeout', '1m30s', 'img']);
    expect(p.values.number('last')).toBe(16);
    expect(p.values.duration('stop-timeout')).toBe(90_000);
    expect(run(['img']).values.number('last')).toBe(-1);
  });

  it('reports an unknown long flag', () => {
    expect(errorOf(() => run(['--foo', 'img']))).toBe('unknown flag: --foo');
    expect(errorOf(() => run(['--foo=1', 'img']))).toBe('unknown flag: --foo');
  });

  it('reports an unknown shorthand with the rest of its group', () => {
    expect(errorOf(() => run(['-z']))).toBe("unknown shorthand flag: 'z' in -z");
    expect(errorOf(() => run(['-itz']))).toBe("unknown shorthand flag: 'z' in -z");
  });

  it('reports a missing argument', () => {
    expect(errorOf(() => run(['--name']))).toBe('flag needs an argument: --name');
    expect(errorOf(() => run(['-e']))).toBe("flag needs an argument: 'e' in -e");
    expect(errorOf(() => run(['-ie']))).toBe("flag needs an argument: 'e' in -e");
  });

  it('reports bad values with the flag as pflag names it', () => {
    expect(errorOf(() => run(['--rm=maybe', 'x']))).toBe(
      'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    );
    expect(errorOf(() => run(['-n', 'abc']))).toBe(
      'invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax',
    );
    expect(errorOf(() => run(['--stop-timeout', '5']))).toBe(
      'invalid argument "5" for "--stop-timeout" flag: time: missing unit in duration "5"',
    );
  });

  it('reports bad flag syntax', () => {
    expect(errorOf(() => run(['---x']))).toBe('bad flag syntax: ---x');
    expect(errorOf(() => run(['--=x']))).toBe('bad flag syntax: --=x');
  });
});
