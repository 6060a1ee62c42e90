/**
 * docker's small parsers and printers for container options and state (go-units and moby):
 * RAMInBytes for `-m` and `max-size`, `--ulimit`, `--restart`, time filters for `logs`, and
 * HumanDuration for the `Status` column. Hand-written: they are a few lines each and docker
 * users see their exact behaviour.
 */
import { constants } from 'node:os';
import { invalidOption } from './errors.js';
import type { RestartPolicy } from './types.js';

const RAM_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * go-units RAMInBytes: `512m`, `1g`, `100k`, `1024`, `1.5GiB` (binary multiples; the b/ib suffix is
 * optional).
 * @throws BerthError INVALID_OPTION naming `field`
 */
export function parseRamBytes(text: string, field = 'memory'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw invalidOption(field, `invalid size: '${text}'`);
  const n = Number(m[1]) * (RAM_UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isFinite(n)) throw invalidOption(field, `invalid size: '${text}'`);
  return Math.floor(n);
}

const RLIMITS = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
  'as',
]);

/**
 * docker's `--ulimit name=soft[:hard]`.
 * @throws BerthError INVALID_OPTION
 */
export function parseUlimit(text: string): { name: string; soft: number; hard: number } {
  const eq = text.indexOf('=');
  const name = eq < 0 ? '' : text.slice(0, eq);
  if (!RLIMITS.has(name)) throw invalidOption('ulimit', `invalid ulimit type: ${name || text}`);
  const [s, h, extra] = text.slice(eq + 1).split(':');
  const num = (v: string | undefined) => {
    if (v === undefined || !/^-?\d+$/.test(v))
      throw invalidOption('ulimit', `invalid ulimit argument: ${text}`);
    return Number(v);
  };
  if (extra !== undefined) throw invalidOption('ulimit', `too many limit value arguments - ${text}`);
  const soft = num(s);
  const hard = h === undefined ? soft : num(h);
  if (soft > hard && hard !== -1)
    throw invalidOption(
      'ulimit',
      `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`,
    );
  return { name, soft, hard };
}

/**
 * docker's `--restart no|always|unless-stopped|on-failure[:N]`.
 * @throws BerthError INVALID_OPTION
 */
export function parseRestartPolicy(text: string | undefined): RestartPolicy {
  if (text === undefined || text === '' || text === 'no') return { Name: 'no', MaximumRetryCount: 0 };
  const [name, count, extra] = text.split(':');
  if (extra !== undefined) throw invalidOption('restart', `invalid restart policy format: ${text}`);
  if (name === 'always' || name === 'unless-stopped') {
    if (count !== undefined)
      throw invalidOption('restart', `maximum retry count cannot be used with restart policy '${name}'`);
    return { Name: name, MaximumRetryCount: 0 };
  }
  if (name === 'on-failure') {
    if (count === undefined) return { Name: 'on-failure', MaximumRetryCount: 0 };
    if (!/^\d+$/.test(count))
      throw invalidOption('restart', `invalid restart policy format: maximum retry count must be an integer`);
    return { Name: 'on-failure', MaximumRetryCount: Number(count) };
  }
  throw invalidOption('restart', `invalid restart policy '${name}'`);
}

/**
 * A signal name (`SIGTERM`, `TERM`, `term`) or number, as docker's signal.ParseSignal.
 * @throws BerthError INVALID_OPTION
 */
export function parseSignal(text: string, field = 'signal'): NodeJS.Signals | number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > 64) throw invalidOption(field, `invalid signal: ${text}`);
    return n;
  }
  const up = text.toUpperCase();
  const name = (up.startsWith('SIG') ? up : `SIG${up}`) as NodeJS.Signals;
  if ((constants.signals as Record<string, number>)[name] === undefined)
    throw invalidOption(field, `invalid signal: ${text}`);
  return name;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, in milliseconds; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (!/^[-+]?(\d+(\.\d*)?(ns|us|\u00b5s|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d*)?)(ns|us|\u00b5s|ms|s|m|h)/g))
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] ?? 0);
  return text.startsWith('-') ? -total : total;
}

/**
 * docker's `--since`/`--until` (timetypes.GetTimestamp): unix seconds with optional fraction, an
 * RFC 3339 date or date-time, or a Go duration before `now`. Returns epoch milliseconds.
 * @throws BerthError INVALID_OPTION
 */
export function parseTimestamp(text: string, field: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const d = parseGoDuration(text);
  if (d !== undefined) return now - d;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/.test(text)) {
    const t = Date.parse(text.includes('T') || text.length === 10 ? text : text.replace(' ', 'T'));
    if (!Number.isNaN(t)) return t;
  }
  throw invalidOption(
    field,
    `invalid value for "${field}": failed to parse value as time or duration: "${text}"`,
  );
}
