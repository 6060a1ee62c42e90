/**
 * A demo utility over the package's public API (not berth's CLI): pull an image into an OCI
 * layout directory, or push one from it. Used by tools/bench's `pull-layout` scenario. Bundled
 * into dist/cli-bundle.cjs and started by dist/cli.cjs (cli-loader.ts) through a V8 code cache;
 * the bin, dist/berth-registry-demo (cli.sh), starts that.
 *
 *   berth-registry-demo pull REF DIR [--platform P] [--concurrency N] [--ca FILE] [--insecure HOST]... [--json]
 *   berth-registry-demo push DIR[:NAME] REF [--ca FILE] [--insecure HOST]... [--json]
 *
 * Credentials come from the docker config ($DOCKER_CONFIG or ~/.docker). Extra CAs come from
 * `--ca` and from NODE_EXTRA_CA_CERTS (moved to BERTH_EXTRA_CA_CERTS by the bin's launcher,
 * src/cli.sh, so that node does not parse it at start). `--json` prints the result with the
 * process's peak RSS.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { isBerthError } from '@berth/oci';
import { createRegistryClient } from './client.js';
import { defaultDockerConfigDir, dockerConfigCredentials } from './docker-config.js';
import { toLayout } from './layout-sink.js';

// undici parses HTTP/1 with llhttp compiled to WebAssembly. V8 compiles it with Liftoff at once,
// then recompiles its hot functions with TurboFan on a background thread: ~100-150 ms of CPU and
// ~20 MB of RSS per pull that a short-lived process never earns back. Set at run time (before
// the first connection compiles llhttp), the flag leaves Node's code cache of its built-ins
// usable; given on the command line it would make Node refuse it (+40 ms at start). It changes
// V8's flag hash, which stamps code caches: the loader (cli-loader.ts) undoes it before it
// writes the bundle's cache.
const LIFTOFF_ONLY = '--liftoff-only';
setFlagsFromString(LIFTOFF_ONLY);

// undici compiles llhttp synchronously on its first connection: ~2-5 ms before the first
// request goes out. Compiled from here on a V8 background thread (while the command starts),
// the same bytes are found compiled then: V8 shares a module between compilations of the same
// bytes. The bytes are dist/llhttp_simd.wasm, which the bundle's undici reads too
// (cli-shims/llhttp-wasm.cjs). Not earlier, in the loader: the flag above must be set first, and
// set before the bundle loads Node's built-ins it would make Node refuse their code cache.
try {
  const wasm = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<unknown> } })
    .WebAssembly;
  wasm.compile(readFileSync(join(__dirname, 'llhttp_simd.wasm'))).catch(() => {});
} catch {
  // no file: undici compiles as usual
}

const usage = `usage:
  berth-registry-demo pull REF DIR [--platform P] [--concurrency N] [--ca FILE] [--insecure HOST]... [--json]
  berth-registry-demo push DIR[:NAME] REF [--ca FILE] [--insecure HOST]... [--json]
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      platform: { type: 'string' },
      concurrency: { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, a, b] = positionals;
  if (values.help || positionals.length !== 3 || (command !== 'pull' && command !== 'push')) {
    process.stderr.write(usage);
    return values.help ? 0 : 2;
  }
  // The launcher moved NODE_EXTRA_CA_CERTS aside; run as plain `node cli.cjs` the variable is
  // still there, and the client's TLS context (which adds CAs) needs it named too.
  const env = process.env;
  const caFile = env.BERTH_EXTRA_CA_CERTS || env.NODE_EXTRA_CA_CERTS;
  const client = createRegistryClient({
    credentials: dockerConfigCredentials({
      dir: defaultDockerConfigDir(env),
      ...(caFile ? { helperEnv: { ...env, NODE_EXTRA_CA_CERTS: caFile } } : {}),
    }),
    ...(caFile ? { caFiles: [caFile] } : {}),
    ...(values.ca ? { ca: await readFile(values.ca, 'utf8') } : {}),
    ...(values.insecure ? { insecure: values.insecure } : {}),
  });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  try {
    let result: object;
    if (command === 'pull') {
      result = await client.pull(a!, toLayout(b!), {
        signal: controller.signal,
        ...(values.platform ? { platform: values.platform } : {}),
        ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
      });
    } else {
      const colon = a!.indexOf(':');
      const dir = colon === -1 ? a! : a!.slice(0, colon);
      const name = colon === -1 ? undefined : a!.slice(colon + 1);
      result = await client.push(b!, toLayout(dir), { signal: controller.signal, ...(name ? { name } : {}) });
    }
    if (values.json) {
      const maxRssKiB = process.resourceUsage().maxRSS;
      process.stdout.write(`${JSON.stringify({ ...result, maxRssKiB })}\n`);
    } else {
      const r = result as { reference: string; manifest?: { digest: string }; digest?: string };
      process.stdout.write(`${r.reference}: ${r.manifest?.digest ?? r.digest}\n`);
    }
    // The client is not closed: process.exit (below) ends its connections with the process.
    // Closing them first cost 2-5 ms at the end of every pull: undici destroys each socket with
    // an error whose stack Node reads, which maps the 600 KB bundle's line ends.
    return 0;
  } catch (err) {
    const code = isBerthError(err) ? ` [${err.code}]` : '';
    process.stderr.write(`berth-registry-demo ${command}: ${(err as Error).message}${code}\n`);
    await client.close();
    return 1;
  }
}

// Exits as soon as the command is done: a natural exit would first tear down the heap (~5 ms
// of freeing memory, several times that on a loaded machine). stdout and stderr are written
// synchronously (files, pipes and terminals on Linux); the client's connections end with the
// process.
main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`berth-registry-demo: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
