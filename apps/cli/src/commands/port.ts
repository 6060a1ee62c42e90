import { BerthError } from '@berth/oci';
import { withEngine } from './engine-support.js';
import type { CommandContext } from './spec.js';

/** One published binding, the Engine API's `PortBinding`. */
interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/**
 * `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports from
 * `NetworkSettings.Ports` (`80/tcp -> 0.0.0.0:8080`), or the bindings of one port. berth's
 * networks are `none` and `host` until bridge networks arrive, so nothing is published yet:
 * the list is empty and asking for a port fails as docker does for an unpublished one.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const [ref, want] = ctx.args as [string, string | undefined];
  const info = await withEngine(ctx, (engine) => engine.containers.inspect(ref));
  const ports = (info.NetworkSettings.Ports ?? {}) as Record<string, PortBinding[] | null>;
  const show = (b: PortBinding) => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
  if (want !== undefined) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(want);
    const port = m ? Number(m[1]) : Number.NaN;
    if (!m || port < 1 || port > 65535)
      throw new BerthError('INVALID_OPTION', `invalid port ${want}`, { input: { field: want } });
    const key = `${port}/${m[2] ?? 'tcp'}`;
    const bindings = ports[key];
    if (!bindings?.length)
      // docker names the port as it was typed (`'80'`, `'53/udp'`)
      throw new BerthError('PORT_NOT_PUBLISHED', `No public port '${want}' published for ${ref}`, {
        input: { field: key },
      });
    for (const b of bindings) ctx.io.stdout.write(`${show(b)}\n`);
    return 0;
  }
  const keys = Object.keys(ports).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  for (const k of keys) for (const b of ports[k] ?? []) ctx.io.stdout.write(`${k} -> ${show(b)}\n`);
  return 0;
}
