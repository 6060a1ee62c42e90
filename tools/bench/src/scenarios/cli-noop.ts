import type { Scenario } from '../scenario.js';

/**
 * `cli-noop`: the cost of starting the CLI and printing its version. docker's client
 * (`docker version --format`) asks its daemon as docker always does; berth has no daemon.
 */
export const cliNoop: Scenario = {
  name: 'cli-noop',
  description: 'start the CLI and print its client version (berth version vs docker/podman version --format)',
  engines: ['berth', 'docker', 'podman'],
  step(ctx, engine) {
    const format = ['version', '--format', '{{.Client.Version}}'];
    if (engine === 'berth') return { argv: [...ctx.berth, ...format] };
    if (engine === 'docker') return { argv: [...ctx.docker!, ...format] };
    return { argv: [...ctx.podman!, ...format] };
  },
};
