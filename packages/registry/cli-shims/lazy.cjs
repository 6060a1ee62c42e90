'use strict';
// The demo CLI bundle's stand-ins for Node built-ins it rarely needs (tsup.cli.config.ts points
// them here). Each costs a short-lived process milliseconds of module compilation at start:
// node:http2 ~30 ms (undici loads it at start, for HTTP/2, which the client never enables),
// node:tls ~15 ms (HTTPS registries only), node:child_process ~15 ms (docker credential helpers
// only). A stand-in has the module's export names as getters that load the real module on first
// use (the bundler's ESM interop copies them as getters, so nothing loads before). `require`
// with a variable is left alone by the bundler, so it reaches Node's own built-in.
module.exports = (name, keys) => {
  let mod;
  const stand = {};
  for (const key of keys) {
    Object.defineProperty(stand, key, {
      enumerable: true,
      get: () => {
        mod ??= require(name);
        return mod[key];
      },
    });
  }
  return stand;
};
