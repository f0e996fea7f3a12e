import type { Metric, Registry } from 'prom-client';

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative; the last one is +Inf). */
  counts: Float64Array;
  sum: number;
}

/**
 * A histogram for the hot paths (every HTTP request, every Redis command): a series is found by
 * a string key the caller builds, and an observation is a bucket scan and two additions.
 * prom-client's own Histogram hashes the label object on every observe — measured at 6–8 µs a
 * request on this machine under load, against 0.1–0.2 µs here (docs/decisions/0038-metrics.md).
 * It renders through the registry like any prom-client metric.
 */
export class SeriesHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** Records `value` in the series `key`; `labels` are read only when the series is new. */
  observe(key: string, labels: () => Record<string, string>, value: number): void {
    let series = this.series.get(key);
    if (!series) {
      series = { labels: labels(), counts: new Float64Array(this.buckets.length + 1), sum: 0 };
      this.series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.buckets.length && value > (this.buckets[bucket] ?? Infinity)) bucket++;
    series.counts[bucket] = (series.counts[bucket] ?? 0) + 1;
    series.sum += value;
  }

  /** What prom-client's registry renders: cumulative buckets, _sum and _count per series. */
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] =
      [];
    for (const { labels, counts, sum } of this.series.values()) {
      let cumulative = 0;
      for (let bucket = 0; bucket <= this.buckets.length; bucket++) {
        cumulative += counts[bucket] ?? 0;
        const le = bucket < this.buckets.length ? (this.buckets[bucket] ?? 0) : '+Inf';
        values.push({
          labels: { le, ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: cumulative, metricName: `${this.name}_count` });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }
}
