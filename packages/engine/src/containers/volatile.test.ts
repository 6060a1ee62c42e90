import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mount } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { volatileMounts, volatileSupported } from './volatile.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-volatile-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('volatile mounts for --rm (podman#10220)', () => {
  it('knows overlayfs volatile from Linux 5.10', () => {
    expect(volatileSupported('5.10.0-28-amd64')).toBe(true);
    expect(volatileSupported('6.1.0')).toBe(true);
    expect(volatileSupported('5.4.0-150-generic')).toBe(false);
    expect(volatileSupported('4.19.0')).toBe(false);
    expect(volatileSupported('weird')).toBe(false);
  });

  it('adds volatile to an overlay with an upper dir and clears the previous mount marker', async () => {
    const work = join(dir, 'work');
    mkdirSync(join(work, 'work', 'incompat', 'volatile'), { recursive: true });
    const overlay: Mount = {
      type: 'overlay',
      source: 'overlay',
      options: ['index=off', 'lowerdir=/l', `upperdir=${join(dir, 'fs')}`, `workdir=${work}`],
    };
    const view: Mount = { type: 'overlay', source: 'overlay', options: ['ro', 'lowerdir=/a:/b'] };
    const bind: Mount = { type: 'bind', source: '/x', options: ['rbind', 'rw'] };
    const out = await volatileMounts([overlay, view, bind], '6.1.0');
    expect(out[0]!.options).toEqual([...overlay.options, 'volatile']);
    expect(out[1]).toEqual(view);
    expect(out[2]).toEqual(bind);
    expect(existsSync(join(work, 'work', 'incompat', 'volatile'))).toBe(false);
    expect(existsSync(join(work, 'work'))).toBe(true);
  });

  it('leaves the mounts alone on an older kernel', async () => {
    const m: Mount = { type: 'overlay', source: 'overlay', options: ['upperdir=/u', 'workdir=/w'] };
    expect(await volatileMounts([m], '5.4.0')).toEqual([m]);
  });
});
