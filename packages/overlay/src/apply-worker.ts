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
import { type ErrorInput, isBerthError, type LogFields, type Logger } from '@berth/oci';
import { applyLayerInto } from './apply.js';
import type { FromWorker, ToWorker, WorkerInit } from './apply-thread.js';
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
}
let job: Job | undefined;

port.on('message', (m: ToWorker) => {
  if (m.type === 'job') {
    job = { id: m.job, queue: [], wake: undefined, ended: undefined, abort: new AbortController() };
    void run(job, m.init);
    return;
  }
  const j = job;
  if (j === undefined || m.job !== j.id) return;
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
        sync: false,
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
    const e = err as Error & { code?: unknown; input?: ErrorInput };
    post({
      type: 'failed',
      job: j.id,
      berth: isBerthError(err),
      name: e?.name ?? 'Error',
      message: e?.message ?? String(err),
      ...(typeof e?.code === 'string' ? { code: e.code } : {}),
      ...(e?.input === undefined ? {} : { input: e.input }),
    });
  }
}
