/**
 * Applying a layer on a worker thread. Creating files is kernel CPU (26-900 µs per create on a
 * churned ext4, README "Throughput"), and node's fs calls that do it are synchronous, so
 * layers applied "in parallel" on one JS thread still create one file at a time. A worker per
 * layer ({@link unpackLayers}) creates files on several cores, and decompression and hashing
 * move off the thread that downloads. The calling thread keeps the stream (a download, a
 * file) and sends its bytes over; the worker runs the unchanged {@link applyLayerInto}, so
 * every hostile-input rule holds, inside the one target directory it is given.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BerthError, type ErrorInput, type LogFields, type Logger, silentLogger } from '@berth/oci';
import type { ApplyLayerOptions, ApplyProgress, ApplyResult, ApplyTarget, ImplicitDir } from './apply.js';
import type { Usage } from './metadata.js';

/** What a worker is started with (`workerData`). */
export interface WorkerInit {
  version: 'berth.apply.v1';
  target: ApplyTarget;
  mediaType?: string;
  diffId?: string;
  digest?: string;
  deferLowers: boolean;
}

/** Messages to a worker. */
export type ToWorker =
  | { type: 'chunk'; chunk: Uint8Array }
  | { type: 'end' }
  | { type: 'fail'; message: string }
  | { type: 'abort'; message: string };

/** Messages from a worker. */
export type FromWorker =
  | { type: 'consumed'; bytes: number }
  | { type: 'progress'; progress: ApplyProgress }
  | { type: 'log'; level: keyof Logger; msg: string; fields?: LogFields }
  | { type: 'done'; result: ApplyResult; implicit: ImplicitDir[]; usage: Usage }
  | {
      type: 'failed';
      berth: boolean;
      name: string;
      message: string;
      code?: string;
      input?: ErrorInput;
    };

/** What {@link applyLayerThreaded} returns: the apply's result plus the target's usage. */
export interface ThreadedApply {
  result: ApplyResult;
  implicit: ImplicitDir[];
  usage: Usage;
}

/** Bytes sent to a worker and not yet read by it before the sender waits. */
const IN_FLIGHT = 8 * 1024 * 1024;

/**
 * How to start the worker: the built `apply-worker.js` beside this module (the package's dist,
 * or the CLI's bundle, which emits it as an entry of its own); from the TypeScript source (the
 * tests), the `.ts` file through tsx's loader with the workspace's source condition.
 */
function workerSpec(): { file: URL | string; eval: boolean; execArgv?: string[] } {
  const built = new URL('./apply-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return { file: built, eval: false };
  const source = new URL('./apply-worker.ts', import.meta.url);
  if (!existsSync(fileURLToPath(source)))
    throw new BerthError('INTERNAL', `apply worker: ${fileURLToPath(built)} is missing (build the package)`);
  const tsx = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(source.href)}); })`;
  return { file: code, eval: true, execArgv: ['--conditions=@berth/source'] };
}

function rebuild(m: Extract<FromWorker, { type: 'failed' }>): Error {
  if (m.berth && m.code !== undefined)
    return new BerthError(m.code, m.message, m.input === undefined ? {} : { input: m.input });
  const err = new Error(m.message);
  err.name = m.name;
  return err;
}

/**
 * {@link applyLayerInto} on a worker thread of its own: reads `options.stream` here and sends
 * the bytes over (at most {@link IN_FLIGHT} unread), reports progress and log lines here, and
 * resolves with the worker's result and the target's usage. `sync` is never done by the
 * worker (the caller syncs once for the stack). On a failure or an abort the worker is
 * stopped before this settles, so nothing writes into the target afterwards; the caller
 * removes the snapshot.
 * @throws what {@link applyLayerInto} throws (same codes, messages and inputs), the stream's
 *   error, or the signal's reason
 */
export async function applyLayerThreaded(
  target: ApplyTarget,
  options: Omit<ApplyLayerOptions, 'mounts' | 'sync'>,
  deferLowers: boolean,
): Promise<ThreadedApply> {
  const { signal } = options;
  signal?.throwIfAborted();
  const logger = options.logger ?? silentLogger;
  const init: WorkerInit = {
    version: 'berth.apply.v1',
    target,
    deferLowers,
    ...(options.mediaType === undefined ? {} : { mediaType: options.mediaType }),
    ...(options.diffId === undefined ? {} : { diffId: options.diffId }),
    ...(options.digest === undefined ? {} : { digest: options.digest }),
  };
  const spec = workerSpec();
  const worker = new Worker(spec.file, {
    eval: spec.eval,
    workerData: init,
    ...(spec.execArgv ? { execArgv: spec.execArgv } : {}),
  });
  let inFlight = 0;
  let credit: (() => void) | undefined;
  let outcome: { ok: ThreadedApply } | { err: unknown } | undefined;
  let finished: () => void = () => {};
  const settled = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const settle = (o: { ok: ThreadedApply } | { err: unknown }) => {
    outcome ??= o;
    credit?.();
    finished();
  };
  worker.on('message', (m: FromWorker) => {
    switch (m.type) {
      case 'consumed':
        inFlight -= m.bytes;
        if (inFlight <= IN_FLIGHT / 2) credit?.();
        break;
      case 'progress':
        options.onProgress?.(m.progress);
        break;
      case 'log':
        logger[m.level](m.msg, m.fields);
        break;
      case 'done':
        settle({ ok: { result: m.result, implicit: m.implicit, usage: m.usage } });
        break;
      case 'failed':
        settle({ err: rebuild(m) });
        break;
    }
  });
  worker.on('error', (err) => settle({ err }));
  worker.on('exit', (code) =>
    settle({ err: new BerthError('INTERNAL', `apply worker exited with code ${code} before its result`) }),
  );
  const onAbort = () => {
    settle({ err: signal?.reason });
    worker.postMessage({ type: 'abort', message: 'aborted' } satisfies ToWorker);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const source: AsyncIterable<Uint8Array> =
    options.stream instanceof Readable
      ? options.stream
      : Symbol.asyncIterator in options.stream
        ? options.stream
        : Readable.from(options.stream);
  void (async () => {
    try {
      for await (const chunk of source) {
        if (outcome !== undefined) return;
        // a copy of the chunk's own bytes (a view may share a larger pooled buffer), moved
        const own = new Uint8Array(chunk);
        worker.postMessage({ type: 'chunk', chunk: own } satisfies ToWorker, [own.buffer]);
        inFlight += own.byteLength;
        while (inFlight > IN_FLIGHT && outcome === undefined) {
          await new Promise<void>((resolve) => {
            credit = resolve;
          });
          credit = undefined;
        }
      }
      if (outcome === undefined) worker.postMessage({ type: 'end' } satisfies ToWorker);
    } catch (err) {
      // the stream failed: the worker fails its apply with the same words, this throws the error
      worker.postMessage({
        type: 'fail',
        message: (err as Error)?.message ?? String(err),
      } satisfies ToWorker);
      settle({ err });
    }
  })();

  try {
    // not `feed`: after a failure it may be waiting on a stream that the caller destroys
    await settled;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // the thread stops before the caller may remove the target
    await worker.terminate();
  }
  const o = outcome as { ok: ThreadedApply } | { err: unknown };
  if ('err' in o) throw o.err;
  return o.ok;
}
