/**
 * `--init`: PID 1 becomes berth-init, a small static reaper built beside the shim
 * (native/init.c). It is bound read-only into the container at docker's path,
 * /sbin/docker-init, and the process's args become `/sbin/docker-init -- <args>`, exactly as
 * docker does with tini. Because it is only a mount and an argv in config.json, runc and crun
 * run the same bundle with the same init.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError, type Spec } from '@berth/oci';
import { INIT_SIGBLOCK_ANNOTATION } from './launch-spec.js';

/** Error codes thrown by {@link locateInit} and {@link withInit}. */
export const InitErrorCode = { INIT_NOT_FOUND: 'INIT_NOT_FOUND', INIT_INVALID: 'INIT_INVALID' } as const;
/** Union of {@link InitErrorCode} values. */
export type InitErrorCode = (typeof InitErrorCode)[keyof typeof InitErrorCode];

/** The init's file name. */
export const INIT_NAME = 'berth-init';

/** Where the init appears inside the container (docker's path). */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

/** Where this package's build writes berth-init (`make -C native`). */
export const BUNDLED_INIT_PATH = fileURLToPath(new URL(`../native/build/${INIT_NAME}`, import.meta.url));

/**
 * Returns the absolute path of a usable berth-init: `init` (the engine passes docker's
 * `--init-path` or `$BERTH_INIT`), this package's native/build/ (unless `skipBundled`), then a
 * PATH-style list.
 *
 * @throws BerthError INIT_NOT_FOUND listing every path tried
 */
export async function locateInit(
  opts: { init?: string; searchPath?: string; skipBundled?: boolean } = {},
): Promise<string> {
  const candidates = [
    ...(opts.init ? [opts.init] : []),
    ...(opts.skipBundled ? [] : [BUNDLED_INIT_PATH]),
    ...(opts.searchPath ?? '')
      .split(delimiter)
      .filter((d) => d.startsWith('/'))
      .map((d) => join(d, INIT_NAME)),
  ];
  const tried: string[] = [];
  for (const c of candidates) {
    if (!c.startsWith('/')) {
      tried.push(`${c} (not an absolute path)`);
      continue;
    }
    try {
      if (!(await stat(c)).isFile()) throw Object.assign(new Error(), { code: 'not a regular file' });
      await access(c, constants.X_OK);
      return c;
    } catch (err) {
      tried.push(`${c} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  throw new BerthError('INIT_NOT_FOUND', `berth-init: not found; tried ${tried.join(', ')}`, {
    input: { field: 'init' },
  });
}

/**
 * Returns a copy of `spec` whose PID 1 is the init at `initPath` (a host path): a read-only
 * bind at {@link INIT_PATH_IN_CONTAINER} and `process.args` prefixed with it and `--`.
 *
 * @throws BerthError INIT_INVALID for a relative path or a spec without args
 */
export function withInit(spec: Spec, opts: { initPath: string }): Spec {
  if (!opts.initPath.startsWith('/'))
    throw new BerthError('INIT_INVALID', `init path "${opts.initPath}": not absolute`, {
      input: { field: 'initPath' },
    });
  const args = spec.process?.args;
  if (!spec.process || !args?.length)
    throw new BerthError('INIT_INVALID', 'init: the spec has no process args', {
      input: { field: 'process.args' },
    });
  // berth-init starts with its signals blocked (berth-shim); another init (tini through
  // --init-path) restores the mask it got for its child, so it must start unblocked
  const { [INIT_SIGBLOCK_ANNOTATION]: _, ...annotations } = spec.annotations ?? {};
  if (basename(opts.initPath) === INIT_NAME) annotations[INIT_SIGBLOCK_ANNOTATION] = 'true';
  return {
    ...spec,
    ...(Object.keys(annotations).length > 0 || spec.annotations ? { annotations } : {}),
    process: { ...spec.process, args: [INIT_PATH_IN_CONTAINER, '--', ...args] },
    mounts: [
      ...(spec.mounts ?? []).filter((m) => m.destination !== INIT_PATH_IN_CONTAINER),
      {
        destination: INIT_PATH_IN_CONTAINER,
        type: 'bind',
        source: opts.initPath,
        options: ['bind', 'ro', 'nosuid', 'nodev'],
      },
    ],
  };
}
