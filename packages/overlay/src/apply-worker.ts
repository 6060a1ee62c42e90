/**
 * The body of an apply worker thread ({@link ApplyThreads}): one layer at a time, several
 * layers one after another (a thread is reused: starting one, and JIT-compiling the apply code
 * in it again, costs ~130 ms of CPU). A job starts with a `job` message; its compressed bytes
 * arrive as messages from the thread that owns the stream; this thread runs the whole
 * {@link applyLayerInto} (decompress, hash, untar, every hostile-input check, the file creates)
 * and then measures the snapshot's usage. Messages are `berth.apply.v2`; each carries its job
 * number, and a message for another job than the current one is dropped.
 */
import { parentPort } from 'node:worker_threads';
import { BerthError, type FsCalls, type LogFields, type Logger } from '@berth/oci';
import { applyLayerInto } from './apply.js';
import type { FromWorker, MknodCall, ToWorker, WorkerInit } from './apply-thread.js';
import { rebuildError, sendError } from './thread-error.js';
import { treeUsageSync } from './usage.js';

const port = parentPort;
if (port === null) throw new Error('apply-worker: not started as a worker thread');
const post = (m: FromWorker) => port.postMessage(m);

/** The job being applied: chunks received and not yet read, a waiting reader, how input ended. */
interface Job {
  id: number;
  queue: Uint8Array[];
  wake: (() => void) | undefined;
  ended: { error?: string } | undefined;
  abort: AbortController;
  /** mknod calls sent to the starting thread and not answered yet. */
  calls: Map<number, { resolve: () => void; reject: (err: Error) => void }>;
}
let job: Job | undefined;
let calls = 0;

/**
 * The job's {@link FsCalls}: mknod(2) is asked of the thread that started this one, which holds
 * the caller's calls (a native addon, or coreutils run from there); syncfs is that thread's
 * anyway (a worker never syncs, `sync: false`).
 */
function callsOf(j: Job): FsCalls {
  const notHere = (what: string) =>
    Promise.reject(new BerthError('INTERNAL', `apply worker: ${what} is made by the starting thread`));
  return {
    syncfs: () => notHere('syncfs'),
    setTopDir: () => notHere('chattr +T'),
    mknod: (path, kind, mode, major, minor) =>
      new Promise<void>((resolve, reject) => {
        const call = ++calls;
        j.calls.set(call, { resolve, reject });
        const node: MknodCall = { path, kind, mode, major, minor };
        post({ type: 'mknod', job: j.id, call, node });
      }),
  };
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'job') {
    job = {
      id: m.job,
      queue: [],
      wake: undefined,
      ended: undefined,
      abort: new AbortController(),
      calls: new Map(),
    };
    void run(job, m.init);
    return;
  }
  const j = job;
  if (j === undefined || m.job !== j.id) return;
  if (m.type === 'mknod-done') {
    const waiting = j.calls.get(m.call);
    j.calls.delete(m.call);
    if (m.error === undefined) waiting?.resolve();
    else waiting?.reject(rebuildError(m.error));
    return;
  }
  if (m.type === 'chunk') j.queue.push(m.chunk);
  else if (m.type === 'end') j.ended = {};
  else if (m.type === 'fail') j.ended = { error: m.message };
  else if (m.type === 'abort') j.abort.abort(new Error(m.message));
  j.wake?.();
});

async function* input(j: Job): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = j.queue.shift();
    if (chunk !== undefined) {
      yield chunk;
      // the consumer asked for more: this chunk is out of the queue's memory
      post({ type: 'consumed', job: j.id, bytes: chunk.byteLength });
      continue;
    }
    if (j.ended?.error !== undefined) throw new Error(j.ended.error);
    if (j.ended) return;
    await new Promise<void>((resolve) => {
      j.wake = resolve;
    });
    j.wake = undefined;
  }
}

async function run(j: Job, init: WorkerInit): Promise<void> {
  const log =
    (level: keyof Logger) =>
    (msg: string, fields?: LogFields): void =>
      post({ type: 'log', job: j.id, level, msg, ...(fields === undefined ? {} : { fields }) });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  let lastProgress = 0;
  try {
    const { result, implicit } = await applyLayerInto(
      init.target,
      {
        stream: input(j),
        ...(init.mediaType === undefined ? {} : { mediaType: init.mediaType }),
        ...(init.diffId === undefined ? {} : { diffId: init.diffId }),
        ...(init.digest === undefined ? {} : { digest: init.digest }),
        ...(init.gunzipAddon === undefined ? {} : { gunzipAddon: init.gunzipAddon }),
        sync: false,
        fsCalls: callsOf(j),
        logger,
        signal: j.abort.signal,
        onProgress: (p) => {
          if (p.read - lastProgress < 256 * 1024) return;
          lastProgress = p.read;
          post({ type: 'progress', job: j.id, progress: p });
        },
      },
      init.deferLowers,
    );
    const usage = treeUsageSync(init.target.root, j.abort.signal);
    if (job === j) job = undefined;
    post({ type: 'done', job: j.id, result, implicit, usage });
  } catch (err) {
    if (job === j) job = undefined;
    post({ type: 'failed', job: j.id, ...sendError(err) });
  }
}
