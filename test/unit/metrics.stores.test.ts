import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createMetrics,
  type MetricsSources,
  type StoreReadings,
} from '../../src/metrics/metrics.js';
import { parseExposition, valueOf } from '../support/metrics.js';

const readings: StoreReadings = {
  queue: { waiting: 7, active: 3, limit: 50, admissionRate: 1.5 },
  outbox: { unsent: 2, oldestUnsentSeconds: 4.5 },
  deliveries: { pending: 1, dead: 0 },
};
const metricsWith = (sources: Partial<MetricsSources>) =>
  createMetrics({
    readStores: () => Promise.resolve(readings),
    reportsStores: () => Promise.resolve(true),
    storeTimeoutMs: 100,
    logger: pino({ level: 'silent' }),
    ...sources,
  });

describe("metrics: the shared stores' gauges", () => {
  it('are rendered by the reporting instance, labelled with the house room', async () => {
    const samples = parseExposition(await metricsWith({}).render());
    expect(valueOf(samples, 'overture_queue_waiting', { room: 'house' })).toBe(7);
    expect(valueOf(samples, 'overture_queue_active', { room: 'house' })).toBe(3);
    expect(valueOf(samples, 'overture_queue_admission_rate', { room: 'house' })).toBe(1.5);
    expect(valueOf(samples, 'overture_outbox_oldest_unsent_seconds')).toBe(4.5);
    expect(valueOf(samples, 'overture_dead_letters')).toBe(0);
  });

  it('are left out by an instance that does not hold the reporting role', async () => {
    const samples = parseExposition(
      await metricsWith({ reportsStores: () => Promise.resolve(false) }).render(),
    );
    expect(samples.some((sample) => sample.name.startsWith('overture_queue_waiting'))).toBe(false);
    expect(valueOf(samples, 'overture_dead_letters')).toBeUndefined();
    expect(valueOf(samples, 'overture_queue_admissions_total', { room: 'house' })).toBe(0);
  });

  it('never hold a scrape longer than the timeout: a hanging store leaves them out, the rest goes out', async () => {
    const metrics = metricsWith({ readStores: () => new Promise<never>(() => undefined) });
    const started = performance.now();
    const samples = parseExposition(await metrics.render());
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(valueOf(samples, 'overture_dead_letters')).toBeUndefined();
    expect(valueOf(samples, 'overture_payments_total', { outcome: 'ok' })).toBe(0);
    // A failing store likewise.
    const failing = metricsWith({ readStores: () => Promise.reject(new Error('down')) });
    expect(
      valueOf(parseExposition(await failing.render()), 'overture_dead_letters'),
    ).toBeUndefined();
  });
});
