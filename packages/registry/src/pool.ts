/**
 * Runs tasks with bounded concurrency. The first failure aborts the shared signal so the other
 * tasks stop early; the call settles only after every started task has settled, so no task
 * still writes after it returns.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal | undefined,
  task: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const inner = new AbortController();
  const onAbort = () => inner.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !inner.signal.aborted) {
      const item = items[next++]!;
      try {
        await task(item, inner.signal);
      } catch (err) {
        firstError ??= { err };
        inner.abort(err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (firstError !== undefined) {
    // A task that failed only because a sibling failed reports the sibling's error.
    throw firstError.err;
  }
  signal?.throwIfAborted();
}
