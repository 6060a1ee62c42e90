import { describe, expect, it } from 'vitest';
import type { ContainerSummary } from './containers/types.js';
import { containerTotals } from './disk-usage.js';

const c = (State: ContainerSummary['State'], SizeRw?: number): ContainerSummary => ({
  Id: 'x',
  Names: ['/x'],
  Image: 'busybox',
  ImageID: 'sha256:x',
  Command: 'true',
  Created: 0,
  Ports: [],
  ...(SizeRw === undefined ? {} : { SizeRw }),
  Labels: {},
  State,
  Status: '',
  HostConfig: { NetworkMode: 'none' },
  Mounts: [],
});

describe('containerTotals (docker system df, Containers row)', () => {
  it('counts running, paused and restarting as active; the others are reclaimable', () => {
    expect(
      containerTotals([
        c('running', 10),
        c('paused', 20),
        c('restarting', 40),
        c('exited', 100),
        c('created', 200),
        c('dead', 400),
        c('removing'),
      ]),
    ).toEqual({ total: 7, active: 3, size: 770, reclaimable: 700 });
    expect(containerTotals([])).toEqual({ total: 0, active: 0, size: 0, reclaimable: 0 });
  });
});
