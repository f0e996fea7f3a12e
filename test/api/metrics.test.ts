import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { parseExposition, valueOf, type Sample } from '../support/metrics.js';
import { startTestServer } from '../support/server.js';
import { useTestServer } from '../support/suite.js';

const METRICS_KEY = 'metrics-test-key-0123456789abcdefghij';

describeWithPostgres('GET /metrics', () => {
  const { db, server } = useTestServer({ MAX_ACTIVE: '10' });

  const scrape = async (url = server.url, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}/metrics`, { headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await response.text());
  };
  const requestCount = (samples: Sample[], route: string, status: string) =>
    valueOf(samples, 'overture_http_request_duration_seconds_count', {
      method: 'GET',
      route,
      status,
    }) ?? 0;
  /** The request hook runs once the reply is sent: a scrape right after may come first. */
  async function eventually(check: (samples: Sample[]) => boolean): Promise<Sample[]> {
    const deadline = Date.now() + 2_000;
    for (;;) {
      const samples = await scrape();
      if (check(samples) || Date.now() > deadline) return samples;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('answers in the Prometheus text format with the process, pool and event-loop metrics', async () => {
    const samples = await scrape();
    const names = new Set(samples.map((sample) => sample.name));
    for (const name of [
      'overture_nodejs_eventloop_lag_seconds',
      'overture_nodejs_gc_duration_seconds_count',
      'overture_process_resident_memory_bytes',
      'overture_db_pool_connections_in_use',
      'overture_db_pool_waiting_requests',
    ])
      expect(names, name).toContain(name);
    for (const pool of ['main', 'batches'])
      expect(valueOf(samples, 'overture_db_pool_waiting_requests', { pool }), pool).toBe(0);
    // The batches' connections open on the first join batch: none yet, and the series is there.
    expect(valueOf(samples, 'overture_db_pool_connections_in_use', { pool: 'batches' })).toBe(0);
    // Nothing else: one series per pool.
    expect(
      samples
        .filter((sample) => sample.name === 'overture_db_pool_connections_in_use')
        .map((sample) => sample.labels)
        .sort((a, b) => String(a.pool).localeCompare(String(b.pool))),
    ).toEqual([{ pool: 'batches' }, { pool: 'main' }]);
  });

  it("counts the join batches' connections apart from the requests' pool", async () => {
    const { database } = server.container;
    if (database.kind !== 'postgres') throw new Error('a PostgreSQL test server');
    // One held connection of the requests' pool, holding a lock the batches' statements wait for
    // (until this test lets them go, however slow the machine): three statements on the batches'
    // two connections, so two run (blocked) and the third waits for a connection.
    const held = await database.pool.connect();
    await held.query('SELECT pg_advisory_lock(9401)');
    const blocked = [1, 2, 3].map(() =>
      database.batches.run({ text: 'SELECT pg_advisory_xact_lock_shared(9401)', values: [] }),
    );
    try {
      const busy = await scrape();
      expect(valueOf(busy, 'overture_db_pool_connections_in_use', { pool: 'batches' })).toBe(2);
      expect(valueOf(busy, 'overture_db_pool_waiting_requests', { pool: 'batches' })).toBe(1);
      expect(
        valueOf(busy, 'overture_db_pool_connections_in_use', { pool: 'main' }),
      ).toBeGreaterThanOrEqual(1);
      expect(valueOf(busy, 'overture_db_pool_waiting_requests', { pool: 'main' })).toBe(0);
    } finally {
      await held.query('SELECT pg_advisory_unlock(9401)');
      held.release();
      await Promise.all(blocked);
    }
    // Done: the batches' connections stay open, idle.
    const idle = await scrape();
    expect(valueOf(idle, 'overture_db_pool_connections_in_use', { pool: 'batches' })).toBe(0);
    expect(valueOf(idle, 'overture_db_pool_waiting_requests', { pool: 'batches' })).toBe(0);
  });

  it('counts requests by method, route template and status', async () => {
    const before = await scrape();
    const unknown = await server.client.status('0'.repeat(43));
    expect(unknown.status).toBe(401);
    const missing = await fetch(`${server.url}/no/such/path/123`);
    expect(missing.status).toBe(404);
    const after = await eventually(
      (samples) =>
        requestCount(samples, '/api/v1/queue/token', '401') >
          requestCount(before, '/api/v1/queue/token', '401') &&
        requestCount(samples, 'unmatched', '404') > requestCount(before, 'unmatched', '404'),
    );
    expect(requestCount(after, '/api/v1/queue/token', '401')).toBe(
      requestCount(before, '/api/v1/queue/token', '401') + 1,
    );
    expect(requestCount(after, 'unmatched', '404')).toBe(
      requestCount(before, 'unmatched', '404') + 1,
    );
    // A histogram: every request lands in the +Inf bucket.
    expect(
      valueOf(after, 'overture_http_request_duration_seconds_bucket', {
        method: 'GET',
        route: '/api/v1/queue/token',
        status: '401',
        le: '+Inf',
      }),
    ).toBe(requestCount(after, '/api/v1/queue/token', '401'));
  });

  it('counts holds and payments by outcome code, and reports the line, the outbox and the dead letters once', async () => {
    const { client } = server;
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 2, price: 5_000 });
    const seatId = seatIds[0]!;
    const first = await client.activeToken(101);
    const second = await client.activeToken(102);
    const before = await scrape();
    const holds = (samples: Sample[], outcome: string) =>
      valueOf(samples, 'overture_holds_total', { outcome }) ?? 0;
    const payments = (samples: Sample[], outcome: string) =>
      valueOf(samples, 'overture_payments_total', { outcome }) ?? 0;

    expect((await client.hold(first, concertId, seatId)).status).toBe(201);
    expect((await client.hold(second, concertId, seatId)).code).toBe('SEAT_ALREADY_HELD');
    expect((await client.pay(first, seatId)).code).toBe('INSUFFICIENT_BALANCE');
    await setBalance(db.pool, 101, 5_000);
    const key = randomUUID();
    expect((await client.pay(first, seatId, key)).status).toBe(201);
    expect((await client.pay(first, seatId, key)).message).toBe('Replayed');

    const after = await scrape();
    expect(holds(after, 'ok') - holds(before, 'ok')).toBe(1);
    expect(holds(after, 'SEAT_ALREADY_HELD') - holds(before, 'SEAT_ALREADY_HELD')).toBe(1);
    expect(payments(after, 'INSUFFICIENT_BALANCE') - payments(before, 'INSUFFICIENT_BALANCE')).toBe(
      1,
    );
    expect(payments(after, 'ok') - payments(before, 'ok')).toBe(1);
    expect(payments(after, 'replayed') - payments(before, 'replayed')).toBe(1);
    // Admission runs admit on PostgreSQL; the Redis join script admits a join at once itself.
    if (server.container.config.QUEUE_BACKEND === 'postgres')
      expect(
        valueOf(after, 'overture_queue_admissions_total', { room: 'house' }),
      ).toBeGreaterThanOrEqual(2);
    expect(valueOf(after, 'overture_queue_admission_rate', { room: 'house' })).toBeGreaterThan(0);

    // The shared stores, read on scrape: one series each.
    expect(valueOf(after, 'overture_queue_active_limit', { room: 'house' })).toBe(10);
    expect(valueOf(after, 'overture_queue_active', { room: 'house' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'overture_queue_waiting', { room: 'house' })).toBe(0);
    expect(valueOf(after, 'overture_dead_letters')).toBe(0);
    expect(valueOf(after, 'overture_outbox_unsent')).toBeGreaterThanOrEqual(0);
    expect(valueOf(after, 'overture_outbox_oldest_unsent_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('puts no raw ids or tokens in labels: routes are templates', async () => {
    const { client } = server;
    const { concertId } = await createConcert(db.pool, { seats: 1 });
    const token = await client.activeToken(103);
    expect((await client.seats(token, concertId)).status).toBe(200);
    const samples = await eventually((found) =>
      found.some(
        (sample) => sample.labels.route === '/api/v1/reservations/concerts/:concertId/seats',
      ),
    );
    const values = samples.flatMap((sample) => Object.values(sample.labels));
    expect(values.filter((value) => value.includes(token))).toEqual([]);
    const routes = new Set(samples.map((sample) => sample.labels.route).filter(Boolean));
    expect(routes).toContain('/api/v1/reservations/concerts/:concertId/seats');
    for (const route of routes) expect(route).toMatch(/^(unmatched|(\/(:?[a-zA-Z-]+|v1))+)$/);
  });

  it('with METRICS_KEY, answers only the bearer of the key (401 METRICS_KEY_INVALID otherwise); METRICS=off serves none', async () => {
    const keyed = await startTestServer(db, { METRICS_KEY });
    const off = await startTestServer(db, { METRICS: 'off' });
    try {
      const without = await keyed.client.call('GET', '/metrics');
      expect([without.status, without.code]).toEqual([401, 'METRICS_KEY_INVALID']);
      const wrong = await keyed.client.call('GET', '/metrics', {
        headers: { authorization: `Bearer ${METRICS_KEY}x` },
      });
      expect([wrong.status, wrong.code]).toEqual([401, 'METRICS_KEY_INVALID']);
      const samples = await scrape(keyed.url, { authorization: `Bearer ${METRICS_KEY}` });
      expect(samples.length).toBeGreaterThan(0);
      const none = await off.client.call('GET', '/metrics');
      expect([none.status, none.code]).toEqual([404, 'NOT_FOUND']);
      expect(off.container.metrics).toBeUndefined();
    } finally {
      await keyed.close();
      await off.close();
    }
  });
});
