'use strict';
// undici's llhttp (SIMD build) for the demo CLI bundle: the WebAssembly bytes from
// dist/llhttp_simd.wasm (written at build time from undici's own module) instead of a base64
// string in the bundle. The CLI (src/cli.ts) starts compiling the same file on a V8 background
// thread as it starts; V8 shares a compiled module between compilations of the same bytes, so
// undici's synchronous compile on its first connection finds it done.
// __dirname is dist/ (the loader runs the bundle with it).
module.exports = require('node:fs').readFileSync(`${__dirname}/llhttp_simd.wasm`);
