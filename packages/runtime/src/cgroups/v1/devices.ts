/**
 * cgroup v1 devices controller: the spec's `linux.resources.devices` rules, in order, as lines
 * for devices.allow / devices.deny (`c 1:3 rwm`; type `a` alone clears the list: deny-all or
 * allow-all).
 */
import type { LinuxDeviceCgroup, LinuxResources } from '@berth/oci';
import { BerthError } from '@berth/oci';
import { writeControlLines } from '../files.js';
import type { ApplyContext } from '../types.js';

const F = 'linux.resources.devices';

/** A device rule as the devices.allow/deny line the kernel parses. */
export function deviceRuleLine(rule: LinuxDeviceCgroup, index: number): string {
  const field = `${F}[${index}]`;
  const fail = (why: string) =>
    new BerthError('CGROUP_RESOURCE_INVALID', `${field}: ${why}`, { input: { field } });
  const type = rule.type ?? 'a';
  if (type !== 'a' && type !== 'b' && type !== 'c')
    throw fail(`type "${String(type).slice(0, 10)}" is not a, b or c`);
  const access = rule.access ?? 'rwm';
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length)
    throw fail(`access "${access.slice(0, 10)}" is not a combination of r, w, m`);
  const num = (v: number | undefined, what: string) => {
    if (v === undefined || v === null || v === -1) return '*';
    if (!Number.isSafeInteger(v) || v < 0) throw fail(`${what} ${v} is not a device number`);
    return String(v);
  };
  const major = num(rule.major, 'major');
  const minor = num(rule.minor, 'minor');
  if (type === 'a') return 'a';
  return `${type} ${major}:${minor} ${access}`;
}

/** Writes each rule to devices.allow or devices.deny, in the spec's order (one write each). */
export async function apply(resources: LinuxResources, dir: string, _ctx: ApplyContext): Promise<void> {
  const rules = resources.devices ?? [];
  const lines = rules.map((r, i) => ({
    file: r.allow ? 'devices.allow' : 'devices.deny',
    line: deviceRuleLine(r, i),
  }));
  await writeControlLines(dir, lines);
}
