import pkg from '../package.json' with { type: 'json' };

/** The Docker Engine API version berth speaks; the daemon will serve it. */
export const API_VERSION = '1.43';

/** The oldest Engine API version the daemon will accept. */
export const MIN_API_VERSION = '1.24';

declare const __BERTH_GIT_COMMIT__: string | undefined;
declare const __BERTH_BUILD_TIME__: string | undefined;

/** berth's version, from package.json. */
export const BERTH_VERSION: string = pkg.version;

/** The git commit the binary was built from (injected by the build), or `unknown`. */
export const GIT_COMMIT: string = typeof __BERTH_GIT_COMMIT__ === 'string' ? __BERTH_GIT_COMMIT__ : 'unknown';

/** When the binary was built (ISO 8601, injected by the build), or `unknown`. */
export const BUILD_TIME: string = typeof __BERTH_BUILD_TIME__ === 'string' ? __BERTH_BUILD_TIME__ : 'unknown';
