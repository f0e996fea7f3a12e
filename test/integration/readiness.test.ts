import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createReadiness } from '../../src/shared/readiness.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, paidReservations, setBalance } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

interface NotReadyBody {
  reason: string;
  reasons: { reason: string; component: string; message: string }[];
  outbox?: { unsent: number; oldestUnsentSeconds: number };
}

/**
 * GET /health/ready means ready: a worker that stops completing its runs, or an outbox whose
 * oldest unsent event is older than READY_MAX_OUTBOX_LAG_SECONDS, makes it 503 with the reason
 * named; it recovers by itself; GET /health/live answers 200 all along.
 */
describeWithPostgres('readiness', () => {
  const db = useTestDatabase();
  let server: TestServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const ready = () => server!.client.call<NotReadyBody>('GET', '/health/ready');
  const live = () => server!.client.call('GET', '/health/live');

  it('a worker that stops completing runs fails ready with worker-stalled, then recovers', async () => {
    server = await startTestServer(db, {
      QUEUE_BACKEND: 'postgres',
      ADMISSION_INTERVAL_MS: '100',
      READY_WORKER_MISSED_RUNS: '3',
      READY_WORKER_MIN_STALL_SECONDS: '1',
    });
    expect((await ready()).status).toBe(200);

    // Admission's runs wait on this lock: the worker is alive but completes nothing.
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE queue_tokens IN ACCESS EXCLUSIVE MODE');
      await expect
        .poll(async () => (await ready()).status, { timeout: 10_000, interval: 100 })
        .toBe(503);
      // Not before the floor (1 s) had passed since the loop's last completed run (or its start),
      // the instant the probe counts from: before the lock, by up to a run and a late timer on a
      // busy machine. Without the floor, 3 missed runs of 100 ms fail it ~300 ms after that.
      const admission = server.container.workers.find((w) => w.progress?.().name === 'admission');
      const { lastCompletedAt, startedAt } = admission!.progress!();
      expect(Date.now() - (lastCompletedAt ?? startedAt!)).toBeGreaterThanOrEqual(1_000);
      const refused = await ready();
      expect(refused.code).toBe('SERVICE_UNAVAILABLE');
      expect(refused.data.reason).toBe('worker-stalled');
      expect(refused.data.reasons).toEqual([
        expect.objectContaining({ reason: 'worker-stalled', component: 'admission' }),
      ]);
      expect(refused.message).toMatch(/allowed: 1\.0 s/);
      expect((await live()).status).toBe(200);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    await expect
      .poll(async () => (await ready()).status, { timeout: 10_000, interval: 100 })
      .toBe(200);
    expect((await live()).status).toBe(200);
  });

  it('a long show-cancel job keeps the instance ready: one batch per run, never a stalled worker', async () => {
    const KEY = 'readiness-test-operator-key-0123456789abc';
    server = await startTestServer(db, {
      QUEUE_BACKEND: 'postgres',
      OPERATOR_KEY: KEY,
      // Stalled after 3 s without a completed run. Not 1 s: the idle worker alone is silent for
      // its 1 s interval plus a run before the first batch, and one batch of 100 took up to
      // 1.2 s with two files at once on 2 cores.
      READY_WORKER_MISSED_RUNS: '1',
      READY_WORKER_MIN_STALL_SECONDS: '3',
    });
    // 1,500 reservations: 15 batches of 100, several seconds of work in all.
    const { concertId } = await createConcert(db.pool, { seats: 1_500, startsInHours: 48 });
    expect(await paidReservations(db.pool, concertId, 700_001)).toBe(1_500);
    const started = await server.client.call('POST', `/api/v1/admin/concerts/${concertId}/cancel`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    // Every completed run of the worker, seen every 5 ms (a batch takes 100 ms or more).
    const showCancel = server.container.workers.find((w) => w.progress?.().name === 'show-cancel');
    const runs = new Set<number>();
    const watching = setInterval(() => {
      const at = showCancel?.progress?.().lastCompletedAt;
      if (at !== undefined) runs.add(at);
    }, 5);
    onTestFinished(() => clearInterval(watching));
    expect(started.status).toBe(202);
    const stalls: string[] = [];
    const began = Date.now();
    for (;;) {
      const probe = await ready();
      for (const reason of probe.data?.reasons ?? [])
        if (reason.component === 'show-cancel') stalls.push(reason.message);
      const job = await db.pool.query<{ state: string }>(
        `SELECT state FROM show_cancel_jobs WHERE concert_id = $1`,
        [concertId],
      );
      if (job.rows[0]?.state === 'done') break;
      expect(Date.now() - began).toBeLessThan(60_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    clearInterval(watching);
    // A run per batch (15 batches of 100; the drain-in-one-run worker completed one run in all),
    // whatever the machine's speed, and never a stall on the way.
    expect(runs.size).toBeGreaterThanOrEqual(10);
    expect(stalls).toEqual([]);
  });

  it('an outbox lag over READY_MAX_OUTBOX_LAG_SECONDS fails ready with outbox-lag, then recovers', async () => {
    // The outbox is this test's alone (the show-cancel test before it left 1,500 events).
    await db.pool.query('TRUNCATE outbox');
    server = await startTestServer(db, {
      QUEUE_BACKEND: 'postgres',
      // The relay's own ticks are a minute apart: only a payment or runNow wakes it.
      OUTBOX_INTERVAL_MS: '60000',
      READY_MAX_OUTBOX_LAG_SECONDS: '30',
    });
    const concert = await createConcert(db.pool, { seats: 2, price: 1_000 });
    const token = await server.client.activeToken(1);
    await setBalance(db.pool, 1, 1_000);
    expect((await server.client.hold(token, concert.concertId, concert.seatIds[0]!)).status).toBe(
      201,
    );
    expect((await server.client.pay(token, concert.seatIds[0]!)).status).toBe(201);
    // The runs the payment woke are over (one queued behind another would publish it again).
    await server.container.relay.runNow();
    expect((await ready()).status).toBe(200);

    // The event as a relay that stopped publishing 20 s ago would have left it: under the limit.
    await db.pool.query(
      `UPDATE outbox SET published_at = NULL, created_at = now() - interval '20 seconds'`,
    );
    const under = await ready();
    expect(under.status).toBe(200);
    expect(under.data).toMatchObject({ outbox: { unsent: 1 } });

    // 45 s: over the 30 s allowed.
    await db.pool.query(`UPDATE outbox SET created_at = now() - interval '45 seconds'`);
    const refused = await ready();
    expect(refused.status).toBe(503);
    expect(refused.code).toBe('SERVICE_UNAVAILABLE');
    expect(refused.data.reasons).toEqual([
      expect.objectContaining({ reason: 'outbox-lag', component: 'outbox' }),
    ]);
    expect(refused.message).toMatch(
      /1 event\(s\) unsent, the oldest 4\d(\.\d)? s old \(allowed: 30 s\)/,
    );
    // The reading itself comes with the refusal.
    expect(refused.data.outbox).toMatchObject({ unsent: 1 });
    expect((await live()).status).toBe(200);

    // The relay publishes it again (consumers apply it once: the inbox knows the event).
    await server.container.relay.runNow();
    const back = await ready();
    expect(back.status).toBe(200);
    expect(back.data).toMatchObject({ outbox: { unsent: 0 } });
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT confirmed_count::int AS n FROM concert_ranking WHERE concert_id = $1`,
      [concert.concertId],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('every failing reason is named at once', async () => {
    server = await startTestServer(db, {
      QUEUE_BACKEND: 'postgres',
      OUTBOX_INTERVAL_MS: '60000',
      ADMISSION_INTERVAL_MS: '100',
      READY_WORKER_MIN_STALL_SECONDS: '1',
      READY_MAX_OUTBOX_LAG_SECONDS: '5',
    });
    await db.pool.query(
      `INSERT INTO outbox (event_id, type, key, payload, created_at)
       VALUES (gen_random_uuid(), 'reservation.confirmed', '0', '{}', now() - interval '1 minute')`,
    );
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE queue_tokens IN ACCESS EXCLUSIVE MODE');
      await expect
        .poll(
          async () => ((await ready()).data.reasons ?? []).map((problem) => problem.reason).sort(),
          { timeout: 10_000, interval: 100 },
        )
        .toEqual(['outbox-lag', 'worker-stalled']);
      expect((await live()).status).toBe(200);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
      await db.pool.query(`DELETE FROM outbox WHERE key = '0'`);
    }
  });
});

describe('the readiness registry', () => {
  it('judges a worker by its interval times the missed runs, never sooner than the floor', () => {
    let now = 100_000;
    const readiness = createReadiness({ missedRuns: 3, minStallMs: 10_000, now: () => now });
    const fast = { name: 'fast', intervalMs: 100, startedAt: 100_000, lastCompletedAt: 100_000 };
    const slow = {
      name: 'slow',
      intervalMs: 60_000,
      startedAt: 100_000,
      lastCompletedAt: undefined,
    };
    const stopped = { name: 'stopped', intervalMs: 100, startedAt: undefined, lastCompletedAt: 0 };
    readiness.watch(() => fast);
    readiness.watch(() => slow);
    readiness.watch(() => stopped);
    now += 9_000;
    expect(readiness.problems()).toEqual([]);
    now += 2_000;
    expect(readiness.problems().map((problem) => problem.component)).toEqual(['fast']);
    fast.lastCompletedAt = now;
    expect(readiness.problems()).toEqual([]);
    now = 100_000 + 180_001;
    expect(readiness.problems().map((problem) => problem.component)).toEqual(['fast', 'slow']);
    expect(readiness.problems()[1]!.message).toMatch(/no run completed since it started/);
  });
});
