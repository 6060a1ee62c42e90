/**
 * Image configs: OCI image-spec v1.1 `config.md` plus the Docker fields an engine must honour
 * (`Healthcheck`, `OnBuild`, `Shell`, ...). Docker writes `null` for empty fields; the parser
 * treats `null` as absent and removes it, so consumers only see `undefined`.
 */

import { checkPlatform } from './descriptor.js';
import type { Digest } from './digest.js';
import { Checker, fieldPath, type JsonObject, type ParseDocumentOptions } from './validate.js';

/** Docker's health check (`HEALTHCHECK`); durations are nanoseconds. */
export interface HealthConfig {
  /** `[]` inherit, `["NONE"]` disabled, `["CMD", args...]` or `["CMD-SHELL", command]`. */
  Test?: string[];
  /** Time between checks, ns (0 = default 30s). */
  Interval?: number;
  /** Time before a check is considered hung, ns (0 = default 30s). */
  Timeout?: number;
  /** Start period during which failures do not count, ns. */
  StartPeriod?: number;
  /** Time between checks during the start period, ns. */
  StartInterval?: number;
  /** Consecutive failures before unhealthy (0 = default 3). */
  Retries?: number;
}

/** The execution parameters of an image (`config.config`). */
export interface ContainerConfig {
  /** `user`, `uid`, `user:group`, `uid:gid`, ... */
  User?: string;
  /** Ports to expose: keys `port/proto` (`80/tcp`), values `{}`. */
  ExposedPorts?: Record<string, object>;
  /** `NAME=value` entries. */
  Env?: string[];
  /** Entrypoint argv. */
  Entrypoint?: string[];
  /** Default arguments (or command when there is no entrypoint). */
  Cmd?: string[];
  /** Anonymous volume mount points: keys are paths, values `{}`. */
  Volumes?: Record<string, object>;
  /** Working directory. */
  WorkingDir?: string;
  /** Labels. */
  Labels?: Record<string, string>;
  /** Signal to stop the container (`SIGTERM`, `15`). */
  StopSignal?: string;
  /** Windows-only argv quoting flag (deprecated). */
  ArgsEscaped?: boolean;
  /** Docker: health check. */
  Healthcheck?: HealthConfig;
  /** Docker: `ONBUILD` triggers. */
  OnBuild?: string[];
  /** Docker: shell for shell-form commands (`SHELL`). */
  Shell?: string[];
  /** Reserved by image-spec (Docker): memory limit. */
  Memory?: number;
  /** Reserved by image-spec (Docker): memory+swap limit. */
  MemorySwap?: number;
  /** Reserved by image-spec (Docker): CPU shares. */
  CpuShares?: number;
}

/** One entry of the image history. */
export interface HistoryEntry {
  /** RFC 3339 creation time. */
  created?: string;
  /** The command that created the layer. */
  created_by?: string;
  /** Author. */
  author?: string;
  /** Comment. */
  comment?: string;
  /** True when the step made no layer. */
  empty_layer?: boolean;
}

/** An image config document. */
export interface ImageConfig {
  /** RFC 3339 creation time. */
  created?: string;
  /** Author. */
  author?: string;
  /** CPU architecture (GOARCH). */
  architecture: string;
  /** Operating system (GOOS). */
  os: string;
  /** OS version. */
  'os.version'?: string;
  /** OS features. */
  'os.features'?: string[];
  /** CPU variant. */
  variant?: string;
  /** Execution parameters. */
  config?: ContainerConfig;
  /** The layer diff IDs (digests of the uncompressed tars), base first. */
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  /** History, base first. */
  history?: HistoryEntry[];
}

/** Options for {@link parseImageConfig}. */
export type ParseImageConfigOptions = ParseDocumentOptions;

const portKey = /^[0-9]{1,5}(?:-[0-9]{1,5})?(?:\/[a-z]{1,8})?$/;

function checkContainerConfig(c: Checker, v: unknown, path: string): void {
  const o = c.object(v, path);
  const p = (k: string) => fieldPath(path, k);
  const noNul = { noNul: true };
  const str = (k: string) => {
    const x = c.opt(o, k);
    if (x !== undefined) c.string(x, p(k), noNul);
  };
  const strs = (k: string) => {
    const x = c.opt(o, k);
    if (x !== undefined) c.strings(x, p(k), noNul);
  };
  const int = (k: string) => {
    const x = c.opt(o, k);
    if (x !== undefined) c.integer(x, p(k));
  };
  str('User');
  str('WorkingDir');
  str('StopSignal');
  strs('Env');
  strs('Entrypoint');
  strs('Cmd');
  strs('OnBuild');
  strs('Shell');
  int('Memory');
  int('MemorySwap');
  int('CpuShares');
  const ports = c.opt(o, 'ExposedPorts');
  if (ports !== undefined) {
    c.setMap(ports, p('ExposedPorts'), (k) =>
      portKey.test(k) ? undefined : 'invalid port, expected port[-port][/protocol]',
    );
  }
  const volumes = c.opt(o, 'Volumes');
  if (volumes !== undefined) {
    c.setMap(volumes, p('Volumes'), (k) =>
      k === '' || k.includes('\0') ? 'invalid volume path' : undefined,
    );
  }
  const labels = c.opt(o, 'Labels');
  if (labels !== undefined) c.stringMap(labels, p('Labels'));
  const argsEscaped = c.opt(o, 'ArgsEscaped');
  if (argsEscaped !== undefined) c.boolean(argsEscaped, p('ArgsEscaped'));
  const hc = c.opt(o, 'Healthcheck');
  if (hc !== undefined) {
    const hp = p('Healthcheck');
    const h = c.object(hc, hp);
    const test = c.opt(h, 'Test');
    if (test !== undefined) c.strings(test, fieldPath(hp, 'Test'), noNul);
    for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) {
      const x = c.opt(h, k);
      if (x !== undefined) c.size(x, fieldPath(hp, k));
    }
  }
}

/** Checks a parsed, untrusted value as an image config. */
export function checkImageConfig(value: unknown): ImageConfig {
  const c = new Checker('INVALID_IMAGE_CONFIG', 'image config');
  const o: JsonObject = c.object(value, '$');
  // architecture/os/os.version/os.features/variant share the platform's rules.
  checkPlatform(c, o, '$');
  for (const k of ['created', 'author']) {
    const x = c.opt(o, k);
    if (x !== undefined) c.string(x, k);
  }
  const config = c.opt(o, 'config');
  if (config !== undefined) checkContainerConfig(c, config, 'config');
  const rootfs = c.object(c.req(o, 'rootfs', '$'), 'rootfs');
  const type = c.string(c.req(rootfs, 'type', 'rootfs'), 'rootfs.type');
  if (type !== 'layers') c.fail('rootfs.type', `must be "layers", got ${JSON.stringify(type.slice(0, 100))}`);
  c.array(c.req(rootfs, 'diff_ids', 'rootfs'), 'rootfs.diff_ids').forEach((d, i) => {
    c.digest(d, fieldPath('rootfs.diff_ids', i));
  });
  const history = c.opt(o, 'history');
  if (history !== undefined) {
    c.array(history, 'history').forEach((e, i) => {
      const hp = fieldPath('history', i);
      const h = c.object(e, hp);
      for (const k of ['created', 'created_by', 'author', 'comment']) {
        const x = c.opt(h, k);
        if (x !== undefined) c.string(x, fieldPath(hp, k));
      }
      const empty = c.opt(h, 'empty_layer');
      if (empty !== undefined) c.boolean(empty, fieldPath(hp, 'empty_layer'));
    });
  }
  return o as unknown as ImageConfig;
}

/**
 * Parses and validates untrusted image config bytes. Throws `MANIFEST_TOO_LARGE` over the limit
 * and `INVALID_IMAGE_CONFIG` naming the field (`config.Env[3]`, `rootfs.diff_ids[0]`).
 */
export function parseImageConfig(
  bytes: Uint8Array | string,
  options: ParseImageConfigOptions = {},
): ImageConfig {
  const c = new Checker('INVALID_IMAGE_CONFIG', 'image config');
  return checkImageConfig(c.decode(bytes, options));
}
