/**
 * The body of an apply worker thread ({@link applyLayerThreaded}): one layer, one thread. The
 * compressed bytes arrive as messages from the thread that owns the stream; this thread runs
 * the whole {@link applyLayerInto} (decompress, hash, untar, every hostile-input check, the
 * file creates) and then measures the snapshot's usage. Messages are `berth.apply.v1`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ErrorInput, isBerthError, type LogFields, type Logger } from '@berth/oci';
import { applyLayerInto } from './apply.js';
import type { FromWorker, ToWorker, WorkerInit } from './apply-thread.js';
import { treeUsage } from './usage.js';

const port = parentPort;
if (port === null) throw new Error('apply-worker: not started as a worker thread');
const init = workerData as WorkerInit;
const post = (m: FromWorker) => port.postMessage(m);

/** Chunks received and not yet read; a waiting reader; how the input ended. */
const queue: Uint8Array[] = [];
let wake: (() => void) | undefined;
let ended: { error?: string } | undefined;
const abort = new AbortController();

port.on('message', (m: ToWorker) => {
  if (m.type === 'chunk') queue.push(m.chunk);
  else if (m.type === 'end') ended = {};
  else if (m.type === 'fail') ended = { error: m.message };
  else if (m.type === 'abort') abort.abort(new Error(m.message));
  wake?.();
});

async function* input(): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = queue.shift();
    if (chunk !== undefined) {
      yield chunk;
      // the consumer asked for more: this chunk is out of the queue's memory
      post({ type: 'consumed', bytes: chunk.byteLength });
      continue;
    }
    if (ended?.error !== undefined) throw new Error(ended.error);
    if (ended) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
}

const log =
  (level: keyof Logger) =>
  (msg: string, fields?: LogFields): void =>
    post({ type: 'log', level, msg, ...(fields === undefined ? {} : { fields }) });
const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

let lastProgress = 0;
try {
  const { result, implicit } = await applyLayerInto(
    init.target,
    {
      stream: input(),
      ...(init.mediaType === undefined ? {} : { mediaType: init.mediaType }),
      ...(init.diffId === undefined ? {} : { diffId: init.diffId }),
      ...(init.digest === undefined ? {} : { digest: init.digest }),
      sync: false,
      logger,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.read - lastProgress < 256 * 1024) return;
        lastProgress = p.read;
        post({ type: 'progress', progress: p });
      },
    },
    init.deferLowers,
  );
  const usage = await treeUsage(init.target.root, abort.signal);
  post({ type: 'done', result, implicit, usage });
} catch (err) {
  const e = err as Error & { code?: unknown; input?: ErrorInput };
  post({
    type: 'failed',
    berth: isBerthError(err),
    name: e?.name ?? 'Error',
    message: e?.message ?? String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(e?.input === undefined ? {} : { input: e.input }),
  });
}
