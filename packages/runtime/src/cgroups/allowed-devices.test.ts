import { describe, expect, it } from 'vitest';
import { RUNC_ALLOWED_DEVICES, withAllowedDevices } from './allowed-devices.js';
import { deviceRuleLine } from './v1/devices.js';

describe('withAllowedDevices (runc specconv.AllowedDevices)', () => {
  it("appends runc's rules after the spec's, so /dev/ptmx and /dev/pts/N open", () => {
    const r = withAllowedDevices({ devices: [{ allow: false, access: 'rwm' }] });
    const lines = (r?.devices ?? []).map((d, i) => deviceRuleLine(d, i));
    expect(lines[0]).toBe('a');
    expect(lines).toContain('c 5:2 rwm');
    expect(lines).toContain('c 136:* rwm');
    expect(lines).toContain('c *:* m');
    expect(lines).toHaveLength(1 + RUNC_ALLOWED_DEVICES.length);
  });
  it('adds nothing where the spec has no device rules', () => {
    expect(withAllowedDevices(undefined)).toBeUndefined();
    expect(withAllowedDevices({ pids: { limit: 5 } })).toEqual({ pids: { limit: 5 } });
  });
});
