import { isBerthError, type Spec } from '@berth/oci';
import { describe, expect, it } from 'vitest';
import { applyTerminal, checkAttachable } from './attach.js';
import { ZERO_TIME } from './status.js';
import type { ContainerConfig, ContainerStateInfo } from './types.js';

const state = (s: Partial<ContainerStateInfo>): ContainerStateInfo => ({
  Status: 'running',
  Running: true,
  Paused: false,
  Restarting: false,
  OOMKilled: false,
  Dead: false,
  Pid: 1,
  ExitCode: 0,
  Error: '',
  StartedAt: ZERO_TIME,
  FinishedAt: ZERO_TIME,
  ...s,
});

describe('checkAttachable', () => {
  it('refuses stopped, paused and restarting containers with docker texts', () => {
    const msg = (s: Partial<ContainerStateInfo>) => {
      try {
        checkAttachable(state(s), 'c');
        return 'ok';
      } catch (e) {
        expect(isBerthError(e, 'CONTAINER_NOT_RUNNING')).toBe(true);
        return (e as Error).message;
      }
    };
    expect(msg({})).toBe('ok');
    expect(msg({ Running: false, Status: 'exited' })).toBe(
      'You cannot attach to a stopped container, start it first',
    );
    expect(msg({ Paused: true })).toBe('You cannot attach to a paused container, unpause it first');
    expect(msg({ Restarting: true })).toMatch(/restarting container/);
  });
});

describe('applyTerminal', () => {
  const spec = (env: string[]): Spec => ({
    ociVersion: '1.1.0',
    process: { cwd: '/', env, user: { uid: 0, gid: 0 } },
  });
  it('sets terminal, the console size and TERM=xterm for a -t container', () => {
    const s = spec(['PATH=/bin']);
    applyTerminal(s, { Tty: true } as ContainerConfig, { rows: 30, cols: 100 });
    expect(s.process).toMatchObject({
      terminal: true,
      consoleSize: { height: 30, width: 100 },
      env: ['TERM=xterm', 'PATH=/bin'],
    });
  });
  it('keeps a TERM the container sets, and leaves a container without -t alone', () => {
    const s = spec(['TERM=vt100']);
    applyTerminal(s, { Tty: true } as ContainerConfig);
    expect(s.process?.env).toEqual(['TERM=vt100']);
    expect(s.process?.consoleSize).toBeUndefined();
    const n = spec([]);
    applyTerminal(n, { Tty: false } as ContainerConfig, { rows: 1, cols: 1 });
    expect(n.process?.terminal).toBeUndefined();
  });
});
