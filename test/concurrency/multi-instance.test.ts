import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestClient } from '../support/client.js';
import { describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { useServerProcesses } from '../support/processes.js';
import type { QueueInspector } from '../support/queue-backend.js';

const LIMIT = 15;
const BUYERS = 90;
const SEATS = 30;

/**
 * Proves: three real server processes on one PostgreSQL (and, in the redis-queue project, one
 * Redis) serving a sale together — joins, polls, holds and payments spread over all three —
 * never have more than MAX_ACTIVE shoppers at any sampled moment, admit strictly in arrival
 * order, never sell a seat twice, and leave every ledger equal to its balance.
 */
describeWithPostgres('three server processes sharing one sale', () => {
  const shared = useServerProcesses({
    MAX_ACTIVE: String(LIMIT),
    ADMISSION_INTERVAL_MS: '50',
    OUTBOX_INTERVAL_MS: '100',
  });
  let db: TestDatabase;
  let inspector: QueueInspector;
  let clients: TestClient[] = [];
  let concert: ConcertFixture;

  beforeAll(async () => {
    ({ db, clients } = shared);
    inspector = await shared.room.inspector(db);
    concert = await createConcert(db.pool, { seats: SEATS, price: 1_000 });
  });
  afterAll(async () => {
    await inspector?.close();
  });

  const anyClient = () => clients[Math.floor(Math.random() * clients.length)]!;

  /** One buyer's visit, every request to a random instance: wait, try a few seats, pay or leave. */
  async function visit(userId: number): Promise<'bought' | 'left'> {
    await setBalance(db.pool, userId, 1_000);
    const joined = await anyClient().join(userId);
    expect(joined.status).toBe(201);
    const token = joined.data.token;
    const deadline = Date.now() + 40_000;
    for (let status = joined.data.status; status !== 'ACTIVE';) {
      if (Date.now() > deadline) throw new Error(`user ${userId} still ${status} after 40 s`);
      await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * 40));
      const polled = await anyClient().status(token);
      expect(polled.status).toBe(200);
      status = polled.data.status;
      expect(status).not.toBe('EXPIRED');
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const map = await anyClient().seats(token, concert.concertId);
      expect([map.status, map.code]).toEqual([200, 'SUCCESS']);
      const seats = map.data.availableSeats.filter((seat) => seat.isAvailable);
      const seat = seats[Math.floor(Math.random() * seats.length)];
      if (!seat) break;
      const hold = await anyClient().hold(token, concert.concertId, seat.seatId);
      if (hold.status !== 201) {
        expect(hold.status).toBe(409);
        continue;
      }
      const paid = await anyClient().pay(token, seat.seatId);
      expect(paid.status).toBe(201);
      return 'bought';
    }
    expect((await anyClient().leave(token)).status).toBe(200);
    return 'left';
  }

  it('keeps the limit, the order, the seats and the money right', async () => {
    let maxActive = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxActive = Math.max(maxActive, await inspector.activeCount());
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const outcomes = await Promise.all(Array.from({ length: BUYERS }, (_, i) => visit(50_000 + i)));
    sampling = false;
    await sampler;

    expect(outcomes.filter((outcome) => outcome === 'bought')).toHaveLength(SEATS);
    expect(maxActive).toBeGreaterThan(1);
    expect(maxActive).toBeLessThanOrEqual(LIMIT);

    // Everyone was admitted exactly once, in arrival order.
    const tokens = await inspector.snapshot();
    expect(tokens).toHaveLength(BUYERS);
    const admitted = tokens
      .filter((token) => token.activatedAt !== null)
      .sort((a, b) =>
        a.activatedAt! === b.activatedAt! ? a.arrival - b.arrival : a.activatedAt! - b.activatedAt!,
      );
    expect(admitted).toHaveLength(BUYERS);
    const arrivals = admitted.map((token) => token.arrival);
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b));

    const sold = await db.pool.query<{ seats: number; reservations: number }>(
      `SELECT count(DISTINCT seat_id)::int AS seats, count(*)::int AS reservations FROM reservations`,
    );
    expect(sold.rows[0]).toEqual({ seats: SEATS, reservations: SEATS });
    expect(await invariantViolations(db.pool, { maxActive: LIMIT, queue: inspector })).toEqual([]);
  });
});
