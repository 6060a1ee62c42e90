// The default Mounter (mount(8)/umount(8)) as a user of @berth/overlay alone gets it; the engine
// injects @berth/runtime's mount(2) instead (its own tests and the engine's container tests).
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isBerthError } from '@berth/oci';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandMounter, mountAll, unmount } from './mount.js';

let root: string;
const mounted: string[] = [];

beforeEach(async () => {
  root = await mkdtemp(`${tmpdir()}/berth-mount-t${process.pid}-`);
});
afterEach(async () => {
  for (const m of mounted.splice(0)) await unmount(m, { lazy: true }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

const mountedAt = async (target: string): Promise<boolean> =>
  (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === target);

async function dirs(...names: string[]): Promise<string[]> {
  const out = names.map((n) => `${root}/${n}`);
  for (const d of out) await mkdir(d, { recursive: true });
  return out;
}

describe('the default mounter (mount(8), umount(8))', () => {
  it('bind-mounts read-only (rbind,ro) and unmounts', async () => {
    const [src, target] = await dirs('src', 'target');
    await writeFile(`${src}/hello`, 'hi');
    await mountAll([{ type: 'bind', source: src!, options: ['rbind', 'ro'] }], target!);
    mounted.push(target!);
    expect(await mountedAt(target!)).toBe(true);
    expect(await readFile(`${target}/hello`, 'utf8')).toBe('hi');
    await expect(writeFile(`${target}/new`, 'x')).rejects.toMatchObject({ code: 'EROFS' });
    await unmount(target!);
    mounted.pop();
    expect(await mountedAt(target!)).toBe(false);
  });

  it('mounts an overlay whose writes land in the upper dir', async () => {
    const [lower, upper, work, target] = await dirs('lower', 'upper', 'work', 'merged');
    await writeFile(`${lower}/a`, 'lower');
    await commandMounter.mount('overlay', target!, 'overlay', [
      `lowerdir=${lower}`,
      `upperdir=${upper}`,
      `workdir=${work}`,
    ]);
    mounted.push(target!);
    expect(await readFile(`${target}/a`, 'utf8')).toBe('lower');
    await writeFile(`${target}/b`, 'upper');
    expect(await readFile(`${upper}/b`, 'utf8')).toBe('upper');
    await commandMounter.unmount(target!);
    mounted.pop();
    expect(await mountedAt(target!)).toBe(false);
  });

  it('detaches a busy mount with lazy', async () => {
    const [src, target] = await dirs('src', 'target');
    await writeFile(`${src}/f`, 'x');
    await mountAll([{ type: 'bind', source: src!, options: ['rbind'] }], target!);
    mounted.push(target!);
    const busy = await open(`${target}/f`, 'r');
    try {
      await unmount(target!, { lazy: true });
      mounted.pop();
      expect(await mountedAt(target!)).toBe(false);
    } finally {
      await busy.close();
    }
  });

  it('fails with MOUNT_FAILED naming the target', async () => {
    const [target] = await dirs('target');
    const notMounted = await unmount(target!).catch((e: unknown) => e);
    expect(isBerthError(notMounted, 'MOUNT_FAILED')).toBe(true);
    expect((notMounted as Error).message).toContain(`umount ${target}`);
    const missing = await mountAll(
      [{ type: 'bind', source: `${root}/nope`, options: ['rbind'] }],
      target!,
    ).catch((e: unknown) => e);
    expect(isBerthError(missing, 'MOUNT_FAILED')).toBe(true);
    expect((missing as Error).message).toContain(`mount ${target}`);
    expect(await mountedAt(target!)).toBe(false);
  });

  it('honours an aborted signal before running anything', async () => {
    const [src, target] = await dirs('src', 'target');
    const reason = new Error('stop');
    await expect(
      mountAll([{ type: 'bind', source: src!, options: ['rbind'] }], target!, {
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
    expect(await mountedAt(target!)).toBe(false);
  });
});
