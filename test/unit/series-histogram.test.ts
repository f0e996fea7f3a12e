import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesHistogram } from '../../src/metrics/series-histogram.js';

const BUCKETS = [0.01, 0.1, 1];

describe('SeriesHistogram', () => {
  it("renders exactly what prom-client's Histogram renders for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new SeriesHistogram('latency_seconds', 'Latency.', BUCKETS, ours);
    const reference = new Histogram({
      name: 'latency_seconds',
      help: 'Latency.',
      labelNames: ['route', 'status'] as const,
      buckets: BUCKETS,
      registers: [theirs],
    });
    // Bounds themselves (le is inclusive), between them, above the last, and zero.
    const observations: [string, string, number][] = [
      ['/a', '200', 0.01],
      ['/a', '200', 0.05],
      ['/a', '200', 1],
      ['/a', '200', 7],
      ['/a', '500', 0],
      ['/b/:id', '200', 0.1],
      ['/b/:id', '200', 0.100001],
    ];
    for (const [route, status, value] of observations) {
      fast.observe(`${route} ${status}`, () => ({ route, status }), value);
      reference.observe({ route, status }, value);
    }
    const rendered = await ours.metrics();
    expect(rendered).toBe(await theirs.metrics());
    expect(rendered).toContain('latency_seconds_bucket{le="0.01",route="/a",status="200"} 1');
    expect(rendered).toContain('latency_seconds_bucket{le="+Inf",route="/a",status="200"} 4');
    expect(rendered).toContain('latency_seconds_count{route="/b/:id",status="200"} 2');
  });
});
