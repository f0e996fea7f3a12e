import pino from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { PoolReadings } from '../../src/db/client.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { parseExposition, valueOf } from '../support/metrics.js';

const metricsWith = (pools: (() => PoolReadings) | undefined) =>
  createMetrics({
    readStores: () => Promise.reject(new Error('not read here')),
    reportsStores: () => Promise.resolve(false),
    ...(pools ? { pools } : {}),
    storeTimeoutMs: 100,
    logger: pino({ level: 'silent' }),
  });

describe("metrics: the database pools' gauges", () => {
  it('carry one series per pool, read on each scrape', async () => {
    let pools: PoolReadings = { main: { inUse: 3, waiting: 1 }, batches: { inUse: 0, waiting: 0 } };
    const metrics = metricsWith(() => pools);
    let samples = parseExposition(await metrics.render());
    expect(valueOf(samples, 'overture_db_pool_connections_in_use', { pool: 'main' })).toBe(3);
    expect(valueOf(samples, 'overture_db_pool_waiting_requests', { pool: 'main' })).toBe(1);
    expect(valueOf(samples, 'overture_db_pool_connections_in_use', { pool: 'batches' })).toBe(0);
    pools = { main: { inUse: 0, waiting: 0 }, batches: { inUse: 2, waiting: 4 } };
    samples = parseExposition(await metrics.render());
    expect(valueOf(samples, 'overture_db_pool_connections_in_use', { pool: 'main' })).toBe(0);
    expect(valueOf(samples, 'overture_db_pool_connections_in_use', { pool: 'batches' })).toBe(2);
    expect(valueOf(samples, 'overture_db_pool_waiting_requests', { pool: 'batches' })).toBe(4);
  });

  it('add up pool by pool over the processes, as the primary of WORKERS=N sums them', async () => {
    const first = metricsWith(() => ({
      main: { inUse: 4, waiting: 2 },
      batches: { inUse: 1, waiting: 0 },
    }));
    const second = metricsWith(() => ({
      main: { inUse: 5, waiting: 0 },
      batches: { inUse: 2, waiting: 3 },
    }));
    // What src/cluster.ts does with the workers' snapshots.
    const text = await AggregatorRegistry.aggregate([
      await first.snapshot(),
      await second.snapshot(),
    ]).metrics();
    const samples = parseExposition(text);
    expect(valueOf(samples, 'overture_db_pool_connections_in_use', { pool: 'main' })).toBe(9);
    expect(valueOf(samples, 'overture_db_pool_connections_in_use', { pool: 'batches' })).toBe(3);
    expect(valueOf(samples, 'overture_db_pool_waiting_requests', { pool: 'main' })).toBe(2);
    expect(valueOf(samples, 'overture_db_pool_waiting_requests', { pool: 'batches' })).toBe(3);
  });

  it('are left out on the embedded database (no pool)', async () => {
    const samples = parseExposition(await metricsWith(undefined).render());
    expect(samples.some((sample) => sample.name.startsWith('overture_db_pool_'))).toBe(false);
  });
});
