/** Latency summaries from raw samples (milliseconds). Exact order statistics, no histogram buckets. */

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
function rank(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(samples: Float64Array | readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  if (sorted.length === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    mean: round(sum / sorted.length),
    p50: round(rank(sorted, 0.5)),
    p90: round(rank(sorted, 0.9)),
    p95: round(rank(sorted, 0.95)),
    p99: round(rank(sorted, 0.99)),
    max: round(sorted[sorted.length - 1]!),
  };
}

/** Three decimals: microsecond resolution is all a loopback measurement can claim. */
export const round = (value: number, digits = 3): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

export const ratio = (value: number, base: number): number | null =>
  base > 0 && Number.isFinite(value) ? round(value / base, 3) : null;
