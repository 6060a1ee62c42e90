/**
 * Network counters of a container, read from the kernel as docker's stats do: the container's
 * `/proc/<pid>/net/dev` is its network namespace's view, one line per interface. The loopback
 * interface is left out (docker reports only the sandbox's other interfaces), and a container
 * sharing the host's namespace (`--network host`) has no counters of its own.
 */
import { readdir, readFile, stat } from 'node:fs/promises';

/** One interface's counters, with the Engine API's field names (`networks.<if>`). */
export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/**
 * Parses `/proc/net/dev` (proc(5)): two header lines, then `iface: rx bytes packets errs drop
 * fifo frame compressed multicast tx bytes packets errs drop fifo colls carrier compressed`.
 * `lo` and malformed lines are skipped.
 */
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === '' || name === 'lo' || name.includes('|')) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out[name] = {
      rx_bytes: f[0] as number,
      rx_packets: f[1] as number,
      rx_errors: f[2] as number,
      rx_dropped: f[3] as number,
      tx_bytes: f[8] as number,
      tx_packets: f[9] as number,
      tx_errors: f[10] as number,
      tx_dropped: f[11] as number,
    };
  }
  return out;
}

/**
 * The counters of the network namespace process `pid` is in, or undefined when that is this
 * process's own namespace (the host's: docker reports no networks for `--network host`) or the
 * process is gone.
 */
export async function networkStats(pid: number): Promise<Record<string, NetworkStats> | undefined> {
  const [theirs, ours] = await Promise.all([
    stat(`/proc/${pid}/ns/net`).catch(() => undefined),
    stat('/proc/self/ns/net').catch(() => undefined),
  ]);
  if (!theirs || (ours && theirs.ino === ours.ino && theirs.dev === ours.dev)) return undefined;
  const text = await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseNetDev(text);
}

/**
 * The processes sharing process `pid`'s pid namespace, as host pids (the fallback of
 * `Runtime.processes` when a container has no cgroup of berth's). Empty when `pid` is gone.
 */
export async function pidNamespaceMembers(pid: number): Promise<number[]> {
  const ns = await stat(`/proc/${pid}/ns/pid`).catch(() => undefined);
  if (!ns) return [];
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = await stat(`/proc/${name}/ns/pid`).catch(() => undefined);
    if (st && st.ino === ns.ino && st.dev === ns.dev) out.push(Number(name));
  }
  return out.sort((a, b) => a - b);
}
