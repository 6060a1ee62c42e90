import { humanDuration } from '@berth/oci';
import { formatGoFloatG } from './template/fmt.js';

/**
 * docker's go-units: human sizes (`1.23MB`, decimal) and byte sizes (`1.2MiB`, binary), and
 * human durations (`About a minute`, `2 hours`), as `docker images`/`docker ps` print them.
 */

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function customSize(size: number, precision: number, base: number, units: string[]): string {
  let i = 0;
  let s = size;
  while (s >= base && i < units.length - 1) {
    s /= base;
    i++;
  }
  return formatGoFloatG(s, precision) + units[i];
}

/** go-units `HumanSizeWithPrecision`: decimal units, `precision` significant digits (`docker images` uses 3). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  return customSize(size, precision, 1000, DECIMAL_UNITS);
}

/** go-units `HumanSize`: decimal units with 4 significant digits, `1.235MB`. */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units `BytesSize`: binary units with 4 significant digits, `1.178MiB`. */
export function bytesSize(size: number): string {
  return customSize(size, 4, 1024, BINARY_UNITS);
}

/** go-units `HumanDuration` (one home, in @berth/oci, shared with the engine's `Status` text). */
export { humanDuration };

/** docker's "N ago" form of a timestamp, relative to `now`: `2 hours ago`. */
export function humanTimeAgo(then: Date, now: Date = new Date()): string {
  return `${humanDuration(now.getTime() - then.getTime())} ago`;
}

/** docker's `stringid.TruncateID`: drop an `algo:` prefix and keep 12 characters. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  const hex = colon >= 0 ? id.slice(colon + 1) : id;
  return hex.length > 12 ? hex.slice(0, 12) : hex;
}

/** Go's time.Time String() in UTC, as docker prints `CreatedAt`: `2024-01-02 03:04:05 +0000 UTC`. */
export function goTime(seconds: number): string {
  return `${new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')} +0000 UTC`;
}
