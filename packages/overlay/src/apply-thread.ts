/**
 * Applying a layer on a worker thread. Creating files is kernel CPU (26-900 µs per create on a
 * churned ext4, README "Throughput"), and node's fs calls that do it are synchronous, so
 * layers applied "in parallel" on one JS thread still create one file at a time. Worker threads
 * ({@link unpackLayers}: one per layer applied at once, each reused for the next layer) create
 * files on several cores, and decompression and hashing move off the thread that downloads. The calling thread keeps the stream (a download, a
 * file) and sends its bytes over; the worker runs the unchanged {@link applyLayerInto}, so
 * every hostile-input rule holds, inside the one target directory it is given.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { BerthError, type FsCalls, type LogFields, type Logger, silentLogger } from '@berth/oci';
import type { ApplyLayerOptions, ApplyProgress, ApplyResult, ApplyTarget, ImplicitDir } from './apply.js';
import type { Usage } from './metadata.js';
import { rebuildError, type SentError, sendError } from './thread-error.js';
import { toolFsCalls } from './tools.js';

/** One job of a worker (the `job` message). */
export interface WorkerInit {
  version: 'berth.apply.v2';
  target: ApplyTarget;
  mediaType?: string;
  diffId?: string;
  digest?: string;
  /** {@link ApplyLayerOptions.gunzipAddon}: loaded in the worker. */
  gunzipAddon?: string;
  deferLowers: boolean;
}

/** Messages to a worker; `job` numbers the layer they belong to. */
export type ToWorker =
  | { type: 'job'; job: number; init: WorkerInit }
  | { type: 'chunk'; job: number; chunk: Uint8Array }
  | { type: 'end'; job: number }
  | { type: 'fail'; job: number; message: string }
  | { type: 'abort'; job: number; message: string }
  | { type: 'mknod-done'; job: number; call: number; error?: SentError };

/** A mknod(2) a worker asks its starting thread to make (see {@link FsCalls.mknod}). */
export interface MknodCall {
  path: string;
  kind: 'c' | 'b' | 'p';
  mode: number;
  major: number;
  minor: number;
}

/** Messages from a worker. */
export type FromWorker =
  | { type: 'consumed'; job: number; bytes: number }
  | { type: 'progress'; job: number; progress: ApplyProgress }
  | { type: 'log'; job: number; level: keyof Logger; msg: string; fields?: LogFields }
  | { type: 'done'; job: number; result: ApplyResult; implicit: ImplicitDir[]; usage: Usage }
  | { type: 'mknod'; job: number; call: number; node: MknodCall }
  | ({ type: 'failed'; job: number } & SentError);

/** Options of {@link ApplyThreads.apply}: an apply's, less what the calling thread does. */
export type ApplyThreadOptions = Omit<ApplyLayerOptions, 'mounts' | 'sync'> & {
  /**
   * Every chunk of `stream` is a buffer of its own that nothing else refers to (a download's
   * copy, a file read): a whole one of at least {@link MOVE_MIN} bytes is moved to the thread
   * (its memory leaves this one) instead of copied. Otherwise each message is a copy.
   */
  movableChunks?: boolean;
};

/** What {@link applyLayerThreaded} returns: the apply's result plus the target's usage. */
export interface ThreadedApply {
  result: ApplyResult;
  implicit: ImplicitDir[];
  usage: Usage;
}

/** Bytes sent to a worker and not yet read by it before the sender waits. */
const IN_FLIGHT = 8 * 1024 * 1024;

/** Bytes the stream holds already that are sent in one message. */
const BATCH = 1024 * 1024;

/** A movable chunk this large goes in a message of its own, moved, not batched into a copy. */
const MOVE_MIN = 256 * 1024;

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

/**
 * Worker threads that apply layers, kept for the next layer once one is done: a thread costs
 * ~130 ms of CPU to start and JIT-compiles the apply code again, so an image of 5 layers on 2
 * threads pays that twice, not 5 times. A thread whose layer failed or was aborted is stopped
 * (never reused), so nothing writes into a target after its apply settled. {@link close}
 * stops the idle threads; call it when the batch is over.
 */
export class ApplyThreads {
  #idle: Worker[] = [];
  #jobs = 0;
  #closed = false;
  #started = 0;

  /** Threads started so far (reused ones count once). */
  get started(): number {
    return this.#started;
  }

  /**
   * {@link applyLayerInto} on a worker thread (an idle one or a new one): reads
   * `options.stream` here and sends the bytes over (at most {@link IN_FLIGHT} unread), reports
   * progress and log lines here, and resolves with the worker's result and the target's usage.
   * `sync` is never done by the worker (the caller syncs once for the stack). On a failure or
   * an abort the worker is stopped before this settles, so nothing writes into the target
   * afterwards; the caller removes the snapshot.
   * @throws what {@link applyLayerInto} throws (same codes, messages and inputs), the stream's
   *   error, or the signal's reason
   */
  async apply(
    target: ApplyTarget,
    options: ApplyThreadOptions,
    deferLowers: boolean,
  ): Promise<ThreadedApply> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (this.#closed) throw new BerthError('INTERNAL', 'apply threads: used after close');
    const logger = options.logger ?? silentLogger;
    const fsCalls: FsCalls = options.fsCalls ?? toolFsCalls;
    const job = ++this.#jobs;
    const init: WorkerInit = {
      version: 'berth.apply.v2',
      target,
      deferLowers,
      ...(options.mediaType === undefined ? {} : { mediaType: options.mediaType }),
      ...(options.diffId === undefined ? {} : { diffId: options.diffId }),
      ...(options.digest === undefined ? {} : { digest: options.digest }),
      ...(options.gunzipAddon === undefined ? {} : { gunzipAddon: options.gunzipAddon }),
    };
    const worker = this.#idle.pop() ?? this.#start();
    worker.ref();
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
    const onMessage = (m: FromWorker) => {
      if (m.job !== job) return;
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
          settle({ err: rebuildError(m) });
          break;
        case 'mknod': {
          // the worker's whiteouts, devices and fifos are made here, where the caller's FsCalls
          // live (a spawn from the worker would fork the whole process from there, and load
          // child_process into its isolate)
          const n = m.node;
          const reply = (error?: unknown) =>
            worker.postMessage({
              type: 'mknod-done',
              job,
              call: m.call,
              ...(error === undefined ? {} : { error: sendError(error) }),
            } satisfies ToWorker);
          fsCalls.mknod(n.path, n.kind, n.mode, n.major, n.minor).then(
            () => reply(),
            (err: unknown) => reply(err ?? new Error('mknod failed')),
          );
          break;
        }
      }
    };
    const onError = (err: Error) => settle({ err });
    const onExit = (code: number) =>
      settle({ err: new BerthError('INTERNAL', `apply worker exited with code ${code} before its result`) });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    const onAbort = () => {
      settle({ err: signal?.reason });
      worker.postMessage({ type: 'abort', job, message: 'aborted' } satisfies ToWorker);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.postMessage({ type: 'job', job, init } satisfies ToWorker);

    const source: AsyncIterable<Uint8Array> =
      options.stream instanceof Readable
        ? options.stream
        : Symbol.asyncIterator in options.stream
          ? options.stream
          : Readable.from(options.stream);
    // bytes the stream holds already and that would go into the same message
    const buffered = source instanceof Readable ? () => source.readableLength : () => 0;
    const movable = options.movableChunks === true;
    const send = async (chunk: Uint8Array) => {
      worker.postMessage({ type: 'chunk', job, chunk } satisfies ToWorker, [chunk.buffer as ArrayBuffer]);
      inFlight += chunk.byteLength;
      while (inFlight > IN_FLIGHT && outcome === undefined) {
        await new Promise<void>((resolve) => {
          credit = resolve;
        });
        credit = undefined;
      }
    };
    void (async () => {
      try {
        let batch: Uint8Array[] = [];
        let size = 0;
        for await (const chunk of source) {
          if (outcome !== undefined) return;
          if (
            movable &&
            batch.length === 0 &&
            chunk.byteLength >= MOVE_MIN &&
            chunk.byteOffset === 0 &&
            chunk.byteLength === chunk.buffer.byteLength
          ) {
            // the caller's own buffer, whole: moved as it is
            await send(chunk);
            continue;
          }
          batch.push(chunk);
          size += chunk.byteLength;
          // network chunks are ~64 KiB: one message (and one gunzip call) per ~1 MiB costs less
          if (size < BATCH && buffered() > 0) continue;
          // a copy of the chunks' own bytes (a view may share a larger pooled buffer), moved
          const own = new Uint8Array(size);
          let at = 0;
          for (const c of batch) {
            own.set(c, at);
            at += c.byteLength;
          }
          batch = [];
          size = 0;
          await send(own);
        }
        if (outcome === undefined) worker.postMessage({ type: 'end', job } satisfies ToWorker);
      } catch (err) {
        // the stream failed: the worker fails its apply with the same words, this throws the error
        worker.postMessage({
          type: 'fail',
          job,
          message: (err as Error)?.message ?? String(err),
        } satisfies ToWorker);
        settle({ err });
      }
    })();

    let reuse = false;
    try {
      // not `feed`: after a failure it may be waiting on a stream that the caller destroys
      await settled;
      reuse = outcome !== undefined && 'ok' in outcome && !this.#closed;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      // a done worker waits for its next job; any other stops before the caller may remove the target
      if (reuse) {
        // an idle thread does not keep the process alive
        worker.unref();
        this.#idle.push(worker);
      } else await worker.terminate();
    }
    const o = outcome as { ok: ThreadedApply } | { err: unknown };
    if ('err' in o) throw o.err;
    return o.ok;
  }

  /**
   * Starts threads up to `n` idle ones now (best effort), so that starting them overlaps with
   * what the caller does before its first {@link apply} (preparing snapshots, downloading).
   */
  warm(n: number): void {
    try {
      while (!this.#closed && this.#idle.length < n) {
        const worker = this.#start();
        worker.unref();
        this.#idle.push(worker);
      }
    } catch {
      // the worker file is missing: apply throws that, with the words
    }
  }

  /** A new thread; one that dies while idle leaves the idle list. */
  #start(): Worker {
    const worker = start();
    this.#started++;
    // an idle thread's error is seen through its exit; a job's error by the job's listener
    worker.on('error', () => {});
    worker.once('exit', () => {
      this.#idle = this.#idle.filter((w) => w !== worker);
    });
    return worker;
  }

  /** Stops the idle threads; a later {@link apply} throws. */
  async close(): Promise<void> {
    this.#closed = true;
    const idle = this.#idle;
    this.#idle = [];
    await Promise.all(idle.map((w) => w.terminate()));
  }
}

let workerThreads: typeof import('node:worker_threads') | undefined;

function start(): Worker {
  const spec = workerSpec();
  // node:worker_threads, required when the first thread starts: every `berth run` imports this
  // package (its index) and never applies a layer; loading the module costs ~0.7 ms of CPU. A
  // require, not `import()`: the CLI's bundle runs in a `vm.Script`, which has no loader for a
  // dynamic import of a built-in.
  workerThreads ??= createRequire(import.meta.url ?? '/')(
    'node:worker_threads',
  ) as typeof import('node:worker_threads');
  return new workerThreads.Worker(spec.file, {
    eval: spec.eval,
    ...(spec.execArgv ? { execArgv: spec.execArgv } : {}),
  });
}

/**
 * {@link ApplyThreads.apply} on a thread of its own, stopped afterwards.
 * @throws what {@link ApplyThreads.apply} throws
 */
export async function applyLayerThreaded(
  target: ApplyTarget,
  options: ApplyThreadOptions,
  deferLowers: boolean,
): Promise<ThreadedApply> {
  const threads = new ApplyThreads();
  try {
    return await threads.apply(target, options, deferLowers);
  } finally {
    await threads.close();
  }
}
