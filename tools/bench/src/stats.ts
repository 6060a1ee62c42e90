/** Summary of one engine's samples, in milliseconds. */
export interface Summary {
  runs: number;
  min: number;
  median: number;
  max: number;
}

/** Min, median and max of a non-empty list of samples. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { runs: sorted.length, min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

/** The ratio of two medians, berth over the other engine: below 1 means berth is faster. */
export function ratio(berth: Summary, other: Summary): number {
  return berth.median / other.median;
}
