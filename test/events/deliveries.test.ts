import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { consumerHandler } from '../../src/modules/events/consumer-runner.js';
import { createDataPlatformConsumer } from '../../src/modules/events/data-platform.consumer.js';
import { createPostgresAuditLog } from '../../src/modules/audit/audit.store.postgres.js';
import { createPostgresDeliveriesStore } from '../../src/modules/events/deliveries.store.postgres.js';
import type { OutboxEvent } from '../../src/modules/events/events.js';
import type { RetryPolicy } from '../../src/modules/events/retry.policy.js';
import { createDeliveryWorker } from '../../src/workers/delivery.worker.js';
import { createHousekeeping } from '../../src/workers/housekeeping.worker.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, type ConcertFixture } from '../support/fixtures.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestServer, testConfig, type TestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * The retry queue (event_deliveries) shared by every instance on one database: who claims which
 * rows, what is remembered after a send, and how long a failing event is retried.
 */
describeWithPostgres('event deliveries on a shared database', () => {
  const db = useTestDatabase();
  let concert: ConcertFixture;
  const servers: TestServer[] = [];
  const receivers: Receiver[] = [];
  const databases: Database[] = [];
  const logger = pino({ level: 'silent' });
  const policy: RetryPolicy = {
    maxAttempts: 0,
    baseDelayMs: 50,
    maxDelayMs: 400,
    horizonMs: 3_600_000,
  };

  beforeAll(async () => {
    concert = await createConcert(db.pool, { seats: 10, price: 1_000 });
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const receiver of receivers.splice(0)) await receiver.close();
    for (const database of databases.splice(0)) await database.close();
    await db.pool.query(
      `TRUNCATE outbox, event_deliveries, processed_events, concert_ranking, outbox_relay_leases`,
    );
  });

  const confirmed = (): OutboxEvent => {
    const eventId = randomUUID();
    return {
      id: 0,
      eventId,
      type: 'reservation.confirmed',
      key: String(concert.concertId),
      payload: { eventId, concertId: concert.concertId, seatId: concert.seatIds[0] },
      createdAt: new Date().toISOString(),
    };
  };

  /** A PENDING row as the consumers' first delivery writes it, due `dueInMs` from now. */
  const pending = async (consumer: string, event: OutboxEvent, dueInMs = 0) => {
    await db.pool.query(
      `INSERT INTO event_deliveries (consumer, event_id, event, status, attempts, next_attempt_at)
       VALUES ($1, $2, $3, 'PENDING', 0, now() + make_interval(secs => $4::float8 / 1000))`,
      [consumer, event.eventId, JSON.stringify(event), dueInMs],
    );
  };

  const open = () => {
    const database = openDatabase({
      url: db.url,
      poolSize: 8,
      pgliteDir: '',
      pgliteInMemory: false,
    });
    databases.push(database);
    return database;
  };

  /**
   * The data-platform path of two instances, without their timers: what a bus hands each event
   * to (the consumer's handler), and two delivery workers, run when the test says.
   */
  const platformPath = async () => {
    const receiver = await startReceiver('accept');
    receivers.push(receiver);
    const instances = [open(), open()].map((database) => {
      const deliveries = createPostgresDeliveriesStore(database, createPostgresAuditLog(database));
      const consumer = createDataPlatformConsumer({
        url: receiver.url,
        timeoutMs: 5_000,
        deliveries,
      });
      return {
        deliver: consumerHandler(consumer, { deliveries, policy, logger }),
        worker: createDeliveryWorker(deliveries, [consumer], {
          policy,
          intervalMs: 60_000,
          logger,
        }),
      };
    });
    return { receiver, instances };
  };

  const rowsOf = async (consumer: string) =>
    (
      await db.pool.query<{ status: string; attempts: number; last_error: string | null }>(
        `SELECT status, attempts, last_error FROM event_deliveries WHERE consumer = $1`,
        [consumer],
      )
    ).rows;

  /**
   * Proves issue 12 item 6: an instance started without DATA_PLATFORM_URL on the shared database
   * leaves the data-platform rows alone (it used to claim them and dead-letter every one, "no
   * consumer named data-platform"), and the instance that has the consumer sends each once.
   */
  it('an instance claims only the deliveries of consumers it has', async () => {
    const sends = Array.from({ length: 10 }, confirmed);
    for (const event of sends) await pending('data-platform', event);
    // Due after the data-platform rows: the run that handles it has passed over them.
    await pending('ranking', confirmed(), 1);

    const withoutPlatform = await startTestServer(db, { DELIVERY_INTERVAL_MS: '20' });
    servers.push(withoutPlatform);
    await expect
      .poll(async () => (await rowsOf('ranking')).map((row) => row.status), { timeout: 5_000 })
      .toEqual(['DELIVERED']);
    expect(await rowsOf('data-platform')).toEqual(
      sends.map(() => ({ status: 'PENDING', attempts: 0, last_error: null })),
    );

    const receiver = await startReceiver('accept');
    receivers.push(receiver);
    servers.push(
      await startTestServer(db, { DELIVERY_INTERVAL_MS: '20', DATA_PLATFORM_URL: receiver.url }),
    );
    await expect.poll(() => receiver.accepted().size, { timeout: 5_000 }).toBe(sends.length);
    expect(receiver.accepted()).toEqual(new Set(sends.map((event) => event.eventId)));
    expect(receiver.received).toHaveLength(sends.length);
    expect((await rowsOf('data-platform')).filter((row) => row.status === 'DEAD')).toEqual([]);
  });
  /**
   * Proves issue 12 item 5 (sequential case): events delivered and sent, then published again
   * (a relay that lost its connection before marking them sent publishes them again), are not
   * sent a second time — the DELIVERED record of each (consumer, event) refuses the copy. Before,
   * the row was deleted after the send and the copy was sent again.
   */
  it('does not send again an event published again after it was sent', async () => {
    const { receiver, instances } = await platformPath();
    const events = Array.from({ length: 30 }, confirmed);
    for (const event of events) await instances[0]!.deliver(event);
    await instances[0]!.worker.runNow();
    expect(receiver.accepted()).toEqual(new Set(events.map((event) => event.eventId)));

    // Published again, to either instance.
    for (const [i, event] of events.entries()) await instances[i % 2]!.deliver(event);
    await Promise.all(instances.map((instance) => instance.worker.runNow()));
    expect(receiver.received).toHaveLength(events.length);
    expect(new Set((await rowsOf('data-platform')).map((row) => row.status))).toEqual(
      new Set(['DELIVERED']),
    );
  });

  /**
   * Proves issue 12 item 5 (concurrent case): three copies of every event arrive at two
   * instances at the same time as both instances' delivery workers run, five rounds over — the
   * copies race the sends and each other. Each event reaches the receiver exactly once (one
   * request, not just one accepted key): the row is the claim, written before the send.
   */
  it('sends concurrent copies of an event once', async () => {
    const { receiver, instances } = await platformPath();
    const events = Array.from({ length: 30 }, confirmed);
    for (let round = 0; round < 5; round++) {
      await Promise.all([
        ...events.flatMap((event) => [0, 1, 2].map((copy) => instances[copy % 2]!.deliver(event))),
        ...instances.map((instance) => instance.worker.runNow()),
      ]);
    }
    await Promise.all(instances.map((instance) => instance.worker.runNow()));
    expect(receiver.accepted()).toEqual(new Set(events.map((event) => event.eventId)));
    expect(receiver.received).toHaveLength(events.length);
  });

  /** Proves the delivered records are purged with the other housekeeping, after RETENTION_HOURS. */
  it('purges delivered records after the retention period, and only those', async () => {
    const [old, recent, stillPending, dead] = [confirmed(), confirmed(), confirmed(), confirmed()];
    for (const event of [old, recent, stillPending, dead]) await pending('data-platform', event);
    const set = (eventIds: string[], assignments: string) =>
      db.pool.query(`UPDATE event_deliveries SET ${assignments} WHERE event_id = ANY($1)`, [
        eventIds,
      ]);
    await set([old.eventId], `status = 'DELIVERED', updated_at = now() - interval '25 hours'`);
    await set([recent.eventId], `status = 'DELIVERED', updated_at = now() - interval '23 hours'`);
    await set([dead.eventId], `status = 'DEAD'`);
    await set(
      [stillPending.eventId, dead.eventId],
      `updated_at = now() - interval '30 hours', created_at = now() - interval '30 hours'`,
    );
    await createHousekeeping(open(), { retentionHours: 24, intervalMs: 60_000, logger }).runNow();
    const { rows } = await db.pool.query<{ event_id: string }>(
      `SELECT event_id FROM event_deliveries`,
    );
    expect(new Set(rows.map((row) => row.event_id))).toEqual(
      new Set([recent.eventId, stillPending.eventId, dead.eventId]),
    );
  });
  /**
   * Proves issue 12 item 7 without waiting hours: with the default policy (no attempt limit, a
   * 12-hour horizon) a platform that keeps failing is retried far past the 8 attempts that used
   * to dead-letter every event in about 2 minutes; the event becomes a dead letter only at its
   * first failure after the horizon — time moved by shifting the row's failing_since, since the
   * worker measures it with the database's clock. A replay starts a fresh horizon.
   */
  it('retries a failing platform for the horizon before dead-lettering, and a replay starts a new one', async () => {
    const defaults = testConfig();
    expect(defaults.EVENT_MAX_ATTEMPTS).toBe(0);
    expect(defaults.EVENT_RETRY_HORIZON_MINUTES).toBe(720);
    const database = open();
    const deliveries = createPostgresDeliveriesStore(database, createPostgresAuditLog(database));
    const receiver = await startReceiver('fail');
    receivers.push(receiver);
    const consumer = createDataPlatformConsumer({
      url: receiver.url,
      timeoutMs: 5_000,
      deliveries,
    });
    const worker = createDeliveryWorker(deliveries, [consumer], {
      policy: {
        maxAttempts: defaults.EVENT_MAX_ATTEMPTS,
        baseDelayMs: defaults.EVENT_RETRY_BASE_MS,
        maxDelayMs: defaults.EVENT_RETRY_MAX_MS,
        horizonMs: defaults.EVENT_RETRY_HORIZON_MINUTES * 60_000,
      },
      intervalMs: 60_000,
      logger,
    });
    const event = confirmed();
    await consumerHandler(consumer, { deliveries, policy, logger })(event);
    /** The next attempt, made due now instead of after its backoff. */
    const attemptNow = async () => {
      await db.pool.query(`UPDATE event_deliveries SET next_attempt_at = now()`);
      await worker.runNow();
    };
    const travel = (interval: string) =>
      db.pool.query(`UPDATE event_deliveries SET failing_since = failing_since - $1::interval`, [
        interval,
      ]);
    const row = async () => (await rowsOf('data-platform'))[0];

    for (let i = 0; i < 20; i++) await attemptNow();
    expect(receiver.received).toHaveLength(20);
    expect(await row()).toMatchObject({ status: 'PENDING', attempts: 20 });

    await travel('11 hours 59 minutes');
    await attemptNow();
    expect(await row()).toMatchObject({ status: 'PENDING', attempts: 21 });

    await travel('1 minute');
    await attemptNow();
    expect(await row()).toMatchObject({ status: 'DEAD', attempts: 22 });
    await attemptNow();
    expect(receiver.received).toHaveLength(22);

    // Replayed: a new horizon, so failures go on being retried, and it flows once the platform does.
    expect(
      await deliveries.replay('data-platform', event.eventId, {
        actor: 'test',
        requestId: 'test',
      }),
    ).toBe(true);
    await attemptNow();
    expect(await row()).toMatchObject({ status: 'PENDING', attempts: 1 });
    receiver.setMode('accept');
    await attemptNow();
    expect(await row()).toMatchObject({ status: 'DELIVERED' });
    expect(receiver.accepted()).toEqual(new Set([event.eventId]));
  });
});
