import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appendEvent,
  type EngineEvent,
  EVENTS_FILE,
  EVENTS_MAX_BYTES,
  eventMatches,
  makeEvent,
  readEvents,
} from './events.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), `berth-t${process.pid}-`));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function collect(it: AsyncIterable<EngineEvent>): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('the event log', () => {
  it('keeps docker messages in order and reads a time range', async () => {
    const t0 = Date.now() - 1;
    await appendEvent(root, {
      Type: 'container',
      Action: 'create',
      id: 'c1',
      attributes: { image: 'busybox', name: 'a' },
    });
    await appendEvent(root, { Type: 'container', Action: 'die', id: 'c1', attributes: { exitCode: '3' } });
    const all = await collect(readEvents(root, { since: t0, follow: false }));
    expect(all.map((e) => e.Action)).toEqual(['create', 'die']);
    expect(all[0]).toMatchObject({
      status: 'create',
      id: 'c1',
      from: 'busybox',
      Type: 'container',
      Actor: { ID: 'c1', Attributes: { image: 'busybox', name: 'a' } },
      scope: 'local',
    });
    expect(all[0]?.timeNano).toBeLessThan(all[1]?.timeNano ?? 0);
    expect(await collect(readEvents(root, { since: t0, until: t0 - 10, follow: false }))).toEqual([]);
  });

  it('follows new events as they are appended, until aborted', async () => {
    await appendEvent(root, { Type: 'container', Action: 'old', id: 'c1' });
    await new Promise((r) => setTimeout(r, 5));
    const since = Date.now();
    const ac = new AbortController();
    const got: string[] = [];
    const reading = (async () => {
      for await (const e of readEvents(root, { since, signal: ac.signal, pollMs: 20 })) {
        got.push(e.Action);
        if (got.length === 2) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    await appendEvent(root, { Type: 'container', Action: 'start', id: 'c1' });
    await appendEvent(root, { Type: 'container', Action: 'stop', id: 'c1' });
    await reading;
    expect(got).toEqual(['start', 'stop']);
  });

  it('rotates past its bound and still reads both files in order', async () => {
    const t0 = Date.now() - 1;
    const pad = 'x'.repeat(2000);
    const n = Math.ceil(EVENTS_MAX_BYTES / 2000) + 5;
    for (let i = 0; i < n; i++)
      await appendEvent(root, { Type: 'container', Action: 'start', id: String(i), attributes: { pad } });
    expect((await stat(join(root, `${EVENTS_FILE}.1`))).size).toBeGreaterThan(EVENTS_MAX_BYTES);
    expect((await stat(join(root, EVENTS_FILE))).size).toBeLessThan(EVENTS_MAX_BYTES);
    const ids = (await collect(readEvents(root, { since: t0, follow: false }))).map((e) =>
      Number(e.Actor.ID),
    );
    expect(ids).toEqual([...Array(n).keys()]);
  });
});

describe('eventMatches (docker filters)', () => {
  const e = makeEvent({
    Type: 'container',
    Action: 'health_status: healthy',
    id: 'abcdef',
    attributes: { image: 'busybox', name: 'web', tier: 'front' },
  });
  it('matches container by ID prefix or name, event by action prefix, labels, type', () => {
    expect(eventMatches(e, { container: ['abc'] })).toBe(true);
    expect(eventMatches(e, { container: ['web'] })).toBe(true);
    expect(eventMatches(e, { container: ['db'] })).toBe(false);
    expect(eventMatches(e, { event: ['health_status'] })).toBe(true);
    expect(eventMatches(e, { event: ['die', 'start'] })).toBe(false);
    expect(eventMatches(e, { label: ['tier=front'], type: ['container'], image: ['busybox'] })).toBe(true);
    expect(eventMatches(e, { label: ['tier=back'] })).toBe(false);
  });
});
