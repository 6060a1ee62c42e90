import { describe, expect, it } from 'vitest';
import { isBerthError } from './errors.js';
import { parseImageConfig } from './image-config.js';

// biome-ignore lint/suspicious/noExplicitAny: these tests mutate untyped, hostile JSON freely
type Json = Record<string, any>;

const DIFF = `sha256:${'4'.repeat(64)}`;

// Shape of a real `docker inspect`-era config as Docker writes it (nulls included).
function dockerConfig(): Json {
  return {
    architecture: 'amd64',
    config: {
      Hostname: '',
      User: '',
      ExposedPorts: { '80/tcp': {}, '8000-8010/udp': {} },
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
      Entrypoint: null,
      Volumes: { '/data': {} },
      WorkingDir: '/',
      Labels: { 'org.opencontainers.image.title': 'x' },
      OnBuild: null,
      StopSignal: 'SIGTERM',
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 30_000_000_000, Retries: 3 },
      ArgsEscaped: true,
    },
    container_config: { Cmd: ['/bin/sh', '-c', '#(nop) CMD ["sh"]'] },
    created: '2024-09-26T21:31:42.000Z',
    docker_version: '26.1.5',
    history: [
      { created: '2024-09-26T21:31:42Z', created_by: 'BusyBox 1.36.1 (glibc), Debian 12' },
      { created: '2024-09-26T21:31:42Z', created_by: 'CMD ["sh"]', comment: 'buildkit', empty_layer: true },
    ],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [DIFF] },
  };
}

const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

function failure(fn: () => unknown): { code: string; field?: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (!isBerthError(err)) throw err;
    const input = err.input as { field?: string } | undefined;
    return {
      code: err.code,
      message: err.message,
      ...(input?.field === undefined ? {} : { field: input.field }),
    };
  }
  throw new Error('expected a failure');
}

describe('parseImageConfig', () => {
  it('accepts a Docker config and drops null fields', () => {
    const c = parseImageConfig(bytes(dockerConfig()));
    expect(c.config?.Cmd).toEqual(['sh']);
    expect(c.config && 'Entrypoint' in c.config).toBe(false);
    expect(c.config?.Healthcheck?.Retries).toBe(3);
    expect(c.rootfs.diff_ids).toEqual([DIFF]);
    expect(c.history?.[1]?.empty_layer).toBe(true);
  });

  it('accepts a minimal OCI config', () => {
    const c = parseImageConfig(
      '{"architecture":"arm64","os":"linux","variant":"v8","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    expect(c.variant).toBe('v8');
    expect(c.config).toBeUndefined();
  });

  const mutate = (f: (c: Json) => void) => {
    const c = dockerConfig();
    f(c);
    return bytes(c);
  };

  it.each<[string, Buffer, string]>([
    ['no os', mutate((c) => delete c.os), 'os'],
    ['architecture a number', mutate((c) => (c.architecture = 1)), 'architecture'],
    ['no rootfs', mutate((c) => delete c.rootfs), 'rootfs'],
    ['rootfs.type', mutate((c) => (c.rootfs.type = 'tar')), 'rootfs.type'],
    ['bad diff id', mutate((c) => (c.rootfs.diff_ids = [DIFF, 'sha256:zz'])), 'rootfs.diff_ids[1]'],
    ['Env not array', mutate((c) => (c.config.Env = 'A=1')), 'config.Env'],
    ['Env entry with NUL', mutate((c) => c.config.Env.push('A=\u0000b')), 'config.Env[1]'],
    ['Cmd entry number', mutate((c) => (c.config.Cmd = ['sh', 1])), 'config.Cmd[1]'],
    ['User number', mutate((c) => (c.config.User = 0)), 'config.User'],
    [
      'bad port key',
      mutate((c) => (c.config.ExposedPorts['80/tcp; rm'] = {})),
      'config.ExposedPorts["80/tcp; rm"]',
    ],
    [
      'port value not object',
      mutate((c) => (c.config.ExposedPorts['80/tcp'] = 1)),
      'config.ExposedPorts["80/tcp"]',
    ],
    ['label value number', mutate((c) => (c.config.Labels.a = 1)), 'config.Labels.a'],
    [
      'negative health retries',
      mutate((c) => (c.config.Healthcheck.Retries = -1)),
      'config.Healthcheck.Retries',
    ],
    ['ArgsEscaped string', mutate((c) => (c.config.ArgsEscaped = 'yes')), 'config.ArgsEscaped'],
    ['history entry string', mutate((c) => (c.history[0] = 'x')), 'history[0]'],
    ['empty_layer string', mutate((c) => (c.history[1].empty_layer = 'true')), 'history[1].empty_layer'],
    ['created number', mutate((c) => (c.created = 1)), 'created'],
  ])('refuses %s', (_name, input, field) => {
    const f = failure(() => parseImageConfig(input));
    expect(f).toMatchObject({ code: 'INVALID_IMAGE_CONFIG', field });
    expect(f.message).toContain(field);
    expect(f.message.startsWith('image config: ')).toBe(true);
  });

  it('refuses oversized configs and bad JSON', () => {
    expect(failure(() => parseImageConfig(bytes(dockerConfig()), { maxBytes: 100 })).code).toBe(
      'MANIFEST_TOO_LARGE',
    );
    expect(failure(() => parseImageConfig('{')).code).toBe('INVALID_IMAGE_CONFIG');
  });
});
