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

export const emptySummary: LatencySummary = {
  count: 0,
  mean: 0,
  p50: 0,
  p90: 0,
  p95: 0,
  p99: 0,
  max: 0,
};

/** Nearest-rank percentile of an ascending array. */
function rank(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(samples: Float64Array | readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  if (sorted.length === 0) return { ...emptySummary };
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

/** Appends numbers to a typed array that doubles as it fills (cheap for hundreds of thousands). */
export class SampleBuffer {
  private data: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.data = new Float64Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  values(): Float64Array {
    return this.data.slice(0, this.length);
  }

  /** The samples pushed since `from` (for per-second progress windows). */
  since(from: number): Float64Array {
    return this.data.slice(from, this.length);
  }
}

export const ratio = (value: number, base: number): number | null =>
  base > 0 && Number.isFinite(value) ? round(value / base, 3) : null;
