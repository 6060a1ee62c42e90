import type { ContainerStatsResponse, Engine } from '@berth/engine';
import { renderList } from '../format/formatter.js';
import { bytesSize, humanSizeWithPrecision, truncateId } from '../format/units.js';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** One row of `berth stats`, docker's field names for `--format`. */
export interface StatsRow {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
}

/** How long between two samples: moby's stats collector samples every second. */
const INTERVAL_MS = 1000;

/** docker/cli's `calculateCPUPercentUnix`: the container's share of the host's CPU time between two samples. */
export function cpuPercent(prev: ContainerStatsResponse, cur: ContainerStatsResponse): number {
  const cpuDelta = cur.cpu_stats.cpu_usage.total_usage - prev.cpu_stats.cpu_usage.total_usage;
  const systemDelta = (cur.cpu_stats.system_cpu_usage ?? 0) - (prev.cpu_stats.system_cpu_usage ?? 0);
  const online = cur.cpu_stats.online_cpus || cur.cpu_stats.cpu_usage.percpu_usage?.length || 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** docker/cli's `calculateMemUsageUnixNoCache`: usage minus inactive file pages (v1 `total_inactive_file`, v2 `inactive_file`). */
export function memoryUsage(s: ContainerStatsResponse): number {
  const usage = s.memory_stats.usage ?? 0;
  const st = s.memory_stats.stats ?? {};
  const v1 = st.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = st.inactive_file;
  if (v2 !== undefined && v2 < usage) return usage - v2;
  return usage;
}

/** The row docker prints for two samples of one container. */
export function statsRow(
  container: string,
  prev: ContainerStatsResponse,
  cur: ContainerStatsResponse,
  opts: { noTrunc: boolean },
): StatsRow {
  const mem = memoryUsage(cur);
  const limit = cur.memory_stats.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(cur.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let read = 0;
  let write = 0;
  for (const e of cur.blkio_stats.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') read += e.value;
    else if (op === 'write') write += e.value;
  }
  const size3 = (n: number) => humanSizeWithPrecision(n, 3);
  return {
    BlockIO: `${size3(read)} / ${size3(write)}`,
    CPUPerc: `${cpuPercent(prev, cur).toFixed(2)}%`,
    Container: container,
    ID: opts.noTrunc ? cur.id : truncateId(cur.id),
    MemPerc: `${(limit > 0 ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    Name: cur.name.replace(/^\//, ''),
    NetIO: `${size3(rx)} / ${size3(tx)}`,
    PIDs: String(cur.pids_stats.current ?? 0),
  };
}

const HEADERS = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

interface Target {
  ref: string;
  container: string;
}

async function sampleAll(engine: Engine, targets: Target[]): Promise<Map<string, ContainerStatsResponse>> {
  const out = new Map<string, ContainerStatsResponse>();
  const got = await Promise.allSettled(targets.map((t) => engine.containers.stats(t.ref)));
  got.forEach((r, i) => {
    const t = targets[i];
    if (t && r.status === 'fulfilled') out.set(t.ref, r.value);
  });
  return out;
}

/**
 * `berth stats [-a] [--no-stream] [--no-trunc] [--format] [CONTAINER...]`: docker's table of CPU %,
 * memory usage / limit, network and block I/O and pids, from two samples a second apart. Without
 * `--no-stream` it redraws every second (clearing the screen as docker does) until interrupted;
 * without names it shows the running containers (all with `-a`), picking up new ones each round.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const noTrunc = f.bool('no-trunc');
  const noStream = f.bool('no-stream');
  const render = (rows: StatsRow[]) =>
    renderList(rows, {
      format: f.string('format'),
      defaultFormat:
        'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
      headers: HEADERS,
    });
  return withEngine(ctx, async (engine) => {
    // named containers must exist (docker: No such container), resolved once
    for (const ref of ctx.args) await engine.containers.resolve(ref);
    const targets = async (): Promise<Target[]> =>
      ctx.args.length
        ? ctx.args.map((ref) => ({ ref, container: ref }))
        : (await engine.containers.list({ all: f.bool('all') })).map((c) => ({
            ref: c.Id,
            container: truncateId(c.Id),
          }));
    let prev = await sampleAll(engine, await targets());
    for (;;) {
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
      const list = await targets();
      const cur = await sampleAll(engine, list);
      const rows: StatsRow[] = [];
      for (const t of list) {
        const c = cur.get(t.ref);
        if (!c) continue;
        rows.push(statsRow(t.container, prev.get(t.ref) ?? c, c, { noTrunc }));
      }
      if (!noStream) ctx.io.stdout.write('\x1b[2J\x1b[H');
      ctx.io.stdout.write(render(rows));
      if (noStream) return 0;
      prev = cur;
    }
  });
}
