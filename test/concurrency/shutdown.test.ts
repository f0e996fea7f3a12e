import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../support/client.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { spawnServer } from '../support/process.js';
import { sharedWaitingRoom, startTestServer, type SharedWaitingRoom } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * Proves: SIGTERM in the middle of a burst of payments loses no committed payment. Requests in
 * flight finish; later ones are refused (503 or connection refused) and change nothing; a retry
 * with the same reservationUuid afterwards either replays the committed payment or performs it
 * once; and the events of every committed payment are still delivered after a restart.
 */
describeWithPostgres('graceful shutdown under load', () => {
  const db = useTestDatabase();
  /** The process and the instance that replaces it share one waiting room (their tokens). */
  let room: SharedWaitingRoom;

  beforeAll(() => {
    room = sharedWaitingRoom();
  });
  afterAll(async () => {
    await room?.cleanup();
  });

  it('finishes in-flight payments, refuses the rest cleanly, and exits 0', async () => {
    const BUYERS = 60;
    const { child, url, exited } = await spawnServer({
      ...room.env,
      DATABASE_URL: db.url,
      MAX_ACTIVE: '1000',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    const client = createClient(url);
    const { concertId, seatIds } = await createConcert(db.pool, { seats: BUYERS, price: 1_000 });
    const buyers = Array.from({ length: BUYERS }, (_, i) => 900 + i);
    await Promise.all(buyers.map((user) => setBalance(db.pool, user, 1_000)));
    const tokens = await Promise.all(buyers.map((user) => client.activeToken(user)));
    await Promise.all(tokens.map((token, i) => client.hold(token, concertId, seatIds[i]!)));

    const keys = buyers.map(() => randomUUID());
    const outcomes = buyers.map((_, i) =>
      (async () => {
        // Spread the burst so that some payments are in flight when the signal lands.
        await new Promise((resolve) => setTimeout(resolve, 2 * i));
        try {
          return (await client.pay(tokens[i]!, seatIds[i]!, keys[i])).status;
        } catch {
          return 'refused';
        }
      })(),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGTERM');
    const statuses = await Promise.all(outcomes);
    expect(await exited).toBe(0);

    // The signal landed mid-burst: some payments went through, later ones were refused.
    expect(statuses.filter((status) => status === 201).length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 201).length).toBeGreaterThan(0);
    for (const status of statuses) expect([201, 503, 'refused']).toContain(status);
    const reserved = await db.pool.query<{ user_id: string }>(`SELECT user_id FROM reservations`);
    const paid = new Set(reserved.rows.map((row) => Number(row.user_id)));
    // Every 201 is in the database.
    statuses.forEach((status, i) => {
      if (status === 201) expect(paid.has(buyers[i]!)).toBe(true);
    });
    const left = await room.inspector(db);
    try {
      expect(await invariantViolations(db.pool, { maxActive: 1000, queue: left })).toEqual([]);
    } finally {
      await left.close();
    }

    // A new instance: retries with the same keys replay or complete each payment exactly once,
    // and the outbox delivers every committed payment's event.
    const restarted = await startTestServer(db, { MAX_ACTIVE: '1000', ...room.overrides });
    try {
      const retries = await Promise.all(
        buyers.map((_, i) => restarted.client.pay(tokens[i]!, seatIds[i]!, keys[i])),
      );
      retries.forEach((reply, i) => {
        if (paid.has(buyers[i]!)) expect([reply.status, reply.message]).toEqual([201, 'Replayed']);
        else expect([201, 403]).toContain(reply.status);
      });
      await expect
        .poll(async () => {
          const { rows } = await db.pool.query<{ ranked: number; reserved: number }>(
            `SELECT coalesce((SELECT confirmed_count::int FROM concert_ranking WHERE concert_id = $1), 0) AS ranked,
                    (SELECT count(*)::int FROM reservations) AS reserved`,
            [concertId],
          );
          return rows[0]!.ranked === rows[0]!.reserved;
        })
        .toBe(true);
      expect(
        await invariantViolations(db.pool, { maxActive: 1000, queue: restarted.queue }),
      ).toEqual([]);
    } finally {
      await restarted.close();
    }
  });
});
