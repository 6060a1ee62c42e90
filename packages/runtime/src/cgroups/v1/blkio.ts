/**
 * cgroup v1 blkio controller. CFQ's blkio.weight is gone from current kernels; with BFQ the
 * weight lives in blkio.bfq.weight (runc uses it the same way). With neither, docker discards
 * the weight with a warning, and so does berth.
 */
import type { LinuxResources, LinuxThrottleDevice } from '@berth/oci';
import { BerthError } from '@berth/oci';
import { hasControl, readOptional, writeControl } from '../files.js';
import type { ApplyContext, BlkioEntry } from '../types.js';
import { intField } from './cpu.js';

const F = 'linux.resources.blockIO';

function device(major: number, minor: number, field: string): string {
  for (const [v, what] of [
    [major, 'major'],
    [minor, 'minor'],
  ] as const)
    if (!Number.isSafeInteger(v) || v < 0)
      throw new BerthError('CGROUP_RESOURCE_INVALID', `${field}.${what}: ${v} is not a device number`, {
        input: { field },
      });
  return `${major}:${minor}`;
}

/** The weight file this kernel offers (`blkio.weight`, else `blkio.bfq.weight`), or undefined. */
export async function weightFile(dir: string): Promise<string | undefined> {
  if (await hasControl(dir, 'blkio.weight')) return 'blkio.weight';
  if (await hasControl(dir, 'blkio.bfq.weight')) return 'blkio.bfq.weight';
  return undefined;
}

async function throttle(dir: string, file: string, list: LinuxThrottleDevice[] | undefined, field: string) {
  for (const d of list ?? [])
    await writeControl(
      dir,
      file,
      `${device(d.major, d.minor, field)} ${intField(d.rate, `${field}.rate`, 0)}`,
    );
}

/** Applies `resources.blockIO`: weight, per-device weights, throttles. */
export async function apply(resources: LinuxResources, dir: string, ctx: ApplyContext): Promise<void> {
  const b = resources.blockIO;
  if (!b) return;
  const wantsWeight = (b.weight ?? 0) !== 0 || (b.weightDevice?.length ?? 0) > 0;
  const file = wantsWeight ? await weightFile(dir) : undefined;
  if (wantsWeight && file === undefined)
    ctx.warn({
      code: 'BLKIO_WEIGHT_UNSUPPORTED',
      field: `${F}.weight`,
      message:
        'the kernel has neither blkio.weight nor blkio.bfq.weight (no CFQ/BFQ): block I/O weight discarded',
    });
  if (file !== undefined) {
    if (b.weight) await writeControl(dir, file, intField(b.weight, `${F}.weight`, 10, 1000)!);
    for (const d of b.weightDevice ?? []) {
      if (d.weight === undefined) continue;
      const w = intField(d.weight, `${F}.weightDevice.weight`, 10, 1000)!;
      const dev = device(d.major, d.minor, `${F}.weightDevice`);
      // blkio.bfq.weight_device takes "maj:min weight" too
      await writeControl(dir, `${file}_device`, `${dev} ${w}`);
    }
  }
  if (b.leafWeight !== undefined)
    ctx.warn({
      code: 'SETTING_IGNORED',
      field: `${F}.leafWeight`,
      message: 'leaf weights were removed with CFQ',
    });
  await throttle(
    dir,
    'blkio.throttle.read_bps_device',
    b.throttleReadBpsDevice,
    `${F}.throttleReadBpsDevice`,
  );
  await throttle(
    dir,
    'blkio.throttle.write_bps_device',
    b.throttleWriteBpsDevice,
    `${F}.throttleWriteBpsDevice`,
  );
  await throttle(
    dir,
    'blkio.throttle.read_iops_device',
    b.throttleReadIOPSDevice,
    `${F}.throttleReadIOPSDevice`,
  );
  await throttle(
    dir,
    'blkio.throttle.write_iops_device',
    b.throttleWriteIOPSDevice,
    `${F}.throttleWriteIOPSDevice`,
  );
}

/** Parses `maj:min Op value` lines; the device-less `Total` line is dropped. */
export function parseIoServiceBytes(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/**
 * Bytes per device and operation: blkio.io_service_bytes_recursive (CFQ), else the BFQ
 * counters, else the throttle layer's, which counts every bio (docker's fallback order).
 */
export async function stats(dir: string): Promise<{ ioServiceBytes: BlkioEntry[] }> {
  for (const file of [
    'blkio.io_service_bytes_recursive',
    'blkio.bfq.io_service_bytes_recursive',
    'blkio.throttle.io_service_bytes_recursive',
  ]) {
    const text = await readOptional(dir, file);
    if (text === undefined) continue;
    const entries = parseIoServiceBytes(text);
    if (entries.length > 0 || file.startsWith('blkio.throttle')) return { ioServiceBytes: entries };
  }
  return { ioServiceBytes: [] };
}
