/**
 * cgroup v2 io controller. The spec's blockIO weight is in v1 units (10..1000): written as is
 * to io.bfq.weight when BFQ is there, else converted for io.weight (1..10000) as runc's
 * ConvertBlkIOToIOWeightValue does; throttles go to io.max; stats come from io.stat.
 */
import type { LinuxResources, LinuxThrottleDevice } from '@berth/oci';
import { hasControl, readControl, writeControl } from '../files.js';
import type { ApplyContext, BlkioEntry } from '../types.js';
import { intField } from '../v1/cpu.js';

const F = 'linux.resources.blockIO';

/** v1 blkio weight (10..1000) → v2 io.weight (1..10000): `1 + (w - 10) * 9999 / 990`. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

async function throttle(dir: string, key: string, list: LinuxThrottleDevice[] | undefined, field: string) {
  for (const d of list ?? []) {
    const maj = intField(d.major, `${field}.major`, 0)!;
    const min = intField(d.minor, `${field}.minor`, 0)!;
    await writeControl(dir, 'io.max', `${maj}:${min} ${key}=${intField(d.rate, `${field}.rate`, 0)}`);
  }
}

/** Applies `resources.blockIO` to the v2 cgroup at `dir`. */
export async function apply(resources: LinuxResources, dir: string, ctx: ApplyContext): Promise<void> {
  const b = resources.blockIO;
  if (!b) return;
  if (b.weight) {
    const w = Number(intField(b.weight, `${F}.weight`, 10, 1000));
    if (await hasControl(dir, 'io.bfq.weight')) await writeControl(dir, 'io.bfq.weight', String(w));
    else if (await hasControl(dir, 'io.weight'))
      await writeControl(dir, 'io.weight', `default ${blkioWeightToIoWeight(w)}`);
    else
      ctx.warn({
        code: 'BLKIO_WEIGHT_UNSUPPORTED',
        field: `${F}.weight`,
        message: 'the kernel has neither io.bfq.weight nor io.weight: block I/O weight discarded',
      });
  }
  for (const d of b.weightDevice ?? []) {
    if (d.weight === undefined) continue;
    const w = Number(intField(d.weight, `${F}.weightDevice.weight`, 10, 1000));
    const dev = `${intField(d.major, `${F}.weightDevice.major`, 0)}:${intField(d.minor, `${F}.weightDevice.minor`, 0)}`;
    if (await hasControl(dir, 'io.bfq.weight')) await writeControl(dir, 'io.bfq.weight', `${dev} ${w}`);
    else await writeControl(dir, 'io.weight', `${dev} ${blkioWeightToIoWeight(w)}`);
  }
  await throttle(dir, 'rbps', b.throttleReadBpsDevice, `${F}.throttleReadBpsDevice`);
  await throttle(dir, 'wbps', b.throttleWriteBpsDevice, `${F}.throttleWriteBpsDevice`);
  await throttle(dir, 'riops', b.throttleReadIOPSDevice, `${F}.throttleReadIOPSDevice`);
  await throttle(dir, 'wiops', b.throttleWriteIOPSDevice, `${F}.throttleWriteIOPSDevice`);
}

/** io.stat (`8:0 rbytes=… wbytes=… dbytes=…`) as docker's Read/Write/Discard entries. */
export function parseIoStat(text: string): BlkioEntry[] {
  const names: Record<string, string> = { rbytes: 'Read', wbytes: 'Write', dbytes: 'Discard' };
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    for (const kv of kvs) {
      const [k, v] = kv.split('=');
      const op = names[k ?? ''];
      if (op && v !== undefined && /^\d+$/.test(v))
        out.push({ major: Number(m[1]), minor: Number(m[2]), op, value: Number(v) });
    }
  }
  return out;
}

/** Bytes per device from io.stat. */
export async function stats(dir: string): Promise<{ ioServiceBytes: BlkioEntry[] }> {
  return { ioServiceBytes: parseIoStat(await readControl(dir, 'io.stat')) };
}
