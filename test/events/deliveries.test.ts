import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { OutboxEvent } from '../../src/modules/events/events.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, type ConcertFixture } from '../support/fixtures.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The retry queue (event_deliveries) shared by every instance on one database: who claims which
 * rows, what is remembered after a send, and how long a failing event is retried.
 */
describeWithPostgres('event deliveries on a shared database', () => {
  let db: TestDatabase;
  let concert: ConcertFixture;
  const servers: TestServer[] = [];
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    concert = await createConcert(db.pool, { seats: 10, price: 1_000 });
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const receiver of receivers.splice(0)) await receiver.close();
    await db.pool.query(
      `TRUNCATE outbox, event_deliveries, processed_events, concert_ranking, outbox_relay_leases`,
    );
  });
  afterAll(async () => {
    await db?.drop();
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
    await expect.poll(async () => (await rowsOf('ranking')).length, { timeout: 5_000 }).toBe(0);
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
});
