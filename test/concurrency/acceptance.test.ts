import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { useTestServer } from '../support/suite.js';

/**
 * MISSION.md's acceptance scenarios, each fired as truly concurrent HTTP requests at a listening
 * server on real PostgreSQL, with the invariants checked in the database afterwards.
 */
describeWithPostgres('acceptance scenarios under concurrency', () => {
  const { db, server } = useTestServer({ MAX_ACTIVE: '1000', DB_POOL_SIZE: '20' });

  afterEach(async () => {
    // The limit on either queue backend (TEST_QUEUE_BACKEND=redis runs this file on Redis).
    expect(await invariantViolations(db.pool, { maxActive: 1000, queue: server.queue })).toEqual(
      [],
    );
    await server.queue.clear();
    await db.pool.query(
      `TRUNCATE seat_holds, reservations, point_transactions, users, outbox, idempotency_keys`,
    );
  });

  const activeTokens = (users: number[]) =>
    Promise.all(users.map((user) => server.client.activeToken(user)));
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

  // Proves: the seat_holds primary key + conditional takeover let exactly one of many
  // simultaneous holds win; every loser gets a clean 409 and no row.
  it('200 users hold the same seat at the same instant → exactly one succeeds, the rest get 409', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 1 });
    const tokens = await activeTokens(range(1000, 200));
    const replies = await Promise.all(
      tokens.map((token) => server.client.hold(token, concertId, seatIds[0]!)),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(
      replies.filter((reply) => reply.status === 409 && reply.code === 'SEAT_ALREADY_HELD'),
    ).toHaveLength(199);
    const holds = await db.pool.query(`SELECT count(*)::int AS n FROM seat_holds`);
    expect(holds.rows[0]).toEqual({ n: 1 });
  });

  // Proves: the idempotency claim row serializes replays of one key; one charge, one
  // reservation, and every reply is that reservation.
  it('the same reservation paid 100 times at once → one charge, one reservation, every reply describes it', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 1, price: 7_000 });
    const [token] = await activeTokens([2000]);
    await setBalance(db.pool, 2000, 100_000);
    await server.client.hold(token!, concertId, seatIds[0]!);
    const key = randomUUID();
    const replies = await Promise.all(
      range(0, 100).map(() => server.client.pay(token!, seatIds[0]!, key)),
    );
    expect(replies.every((reply) => reply.status === 201)).toBe(true);
    expect(replies.filter((reply) => reply.message === 'Reserved')).toHaveLength(1);
    expect(replies.filter((reply) => reply.message === 'Replayed')).toHaveLength(99);
    const ids = new Set(replies.map((reply) => reply.data.reservationId));
    expect(ids.size).toBe(1);
    expect((await server.client.balance(2000)).data.balance).toBe(93_000);
    const counts = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM reservations) AS reservations,
              (SELECT count(*)::int FROM point_transactions WHERE type = 'USE') AS charges`,
    );
    expect(counts.rows[0]).toEqual({ reservations: 1, charges: 1 });
  });

  // Proves: the hold row lock + conditional debit admit one payment per held seat even under
  // different keys; the others fail without touching the balance.
  it('balance 5,000, seat 5,000, paid five times at once with five keys → one succeeds, balance 0', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 1, price: 5_000 });
    const [token] = await activeTokens([3000]);
    await setBalance(db.pool, 3000, 5_000);
    await server.client.hold(token!, concertId, seatIds[0]!);
    const replies = await Promise.all(
      range(0, 5).map(() => server.client.pay(token!, seatIds[0]!)),
    );
    expect(replies.filter((reply) => reply.status === 201)).toHaveLength(1);
    for (const reply of replies.filter((r) => r.status !== 201)) {
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
      expect(['SEAT_ALREADY_RESERVED', 'QUEUE_TOKEN_EXPIRED']).toContain(reply.code);
    }
    expect((await server.client.balance(3000)).data.balance).toBe(0);
  });

  // Proves: charges and payments serialize on the user row; the balance never goes negative
  // and always equals the ledger, whatever the interleaving.
  it('charges racing payments never make a balance negative or differ from the ledger', async () => {
    const users = range(4000, 20);
    const { concertId, seatIds } = await createConcert(db.pool, {
      seats: users.length,
      price: 10_000,
    });
    const tokens = await activeTokens(users);
    await Promise.all(users.map((user) => setBalance(db.pool, user, 10_000)));
    await Promise.all(tokens.map((token, i) => server.client.hold(token, concertId, seatIds[i]!)));
    const work = users.flatMap((user, i) => [
      server.client.pay(tokens[i]!, seatIds[i]!),
      ...range(0, 5).map(() => server.client.charge(user, 1_000)),
    ]);
    const replies = await Promise.all(work);
    expect(replies.every((reply) => reply.status === 201 || reply.status === 200)).toBe(true);
    const balances = await db.pool.query<{ balance: number }>(
      `SELECT balance::int FROM users WHERE id = ANY($1)`,
      [users],
    );
    // Every payment succeeded (the balance always covered the price) and every charge landed.
    expect(balances.rows.map((row) => row.balance)).toEqual(users.map(() => 5_000));
  });

  // Proves: concurrent charges never lose an update.
  it('100 concurrent charges of 1,000 → balance +100,000 exactly, ledger sum equals balance', async () => {
    await setBalance(db.pool, 5000, 1);
    const replies = await Promise.all(range(0, 100).map(() => server.client.charge(5000, 1_000)));
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    expect((await server.client.balance(5000)).data.balance).toBe(100_001);
    const ledger = await db.pool.query(
      `SELECT count(*)::int AS n, sum(amount)::int AS total FROM point_transactions WHERE user_id = 5000`,
    );
    expect(ledger.rows[0]).toEqual({ n: 101, total: 100_001 });
  });

  // Proves: one HELD row per user is a database fact, even when one user's holds race.
  it('one user holding ten seats at once ends with exactly one live hold', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 10 });
    const [token] = await activeTokens([6000]);
    const replies = await Promise.all(
      seatIds.map((seatId) => server.client.hold(token!, concertId, seatId)),
    );
    expect(replies.some((reply) => reply.status === 201)).toBe(true);
    for (const reply of replies) expect(reply.status).toBeLessThan(500);
    const holds = await db.pool.query(
      `SELECT count(*)::int AS n FROM seat_holds WHERE user_id = 6000`,
    );
    expect(holds.rows[0]).toEqual({ n: 1 });
  });

  // Proves: a payment and another user's takeover of the same just-expiring hold are
  // serialized on the hold row: never both, so nobody is charged for a seat given away.
  it('payment racing hold expiry never charges for a seat given to someone else', async () => {
    const rounds = 40;
    const { concertId, seatIds } = await createConcert(db.pool, { seats: rounds, price: 1_000 });
    const payers = range(7000, rounds);
    const takers = range(8000, rounds);
    const payerTokens = await activeTokens(payers);
    const takerTokens = await activeTokens(takers);
    await Promise.all(payers.map((user) => setBalance(db.pool, user, 1_000)));
    await Promise.all(
      payerTokens.map((token, i) => server.client.hold(token, concertId, seatIds[i]!)),
    );
    // Each hold expires a few milliseconds from now, at staggered moments, while both requests fly.
    await db.pool.query(
      `UPDATE seat_holds SET expires_at = now() + (seat_id % 7) * interval '3 milliseconds' + interval '20 milliseconds'`,
    );
    const outcomes = await Promise.all(
      seatIds.map(async (seatId, i) => {
        const [pay, take] = await Promise.all([
          server.client.pay(payerTokens[i]!, seatId),
          server.client.hold(takerTokens[i]!, concertId, seatId),
        ]);
        return { pay: pay.status, take: take.status };
      }),
    );
    for (const [i, outcome] of outcomes.entries()) {
      expect(outcome.pay === 201 && outcome.take === 201, `seat ${seatIds[i]}`).toBe(false);
      expect(outcome.pay < 500 && outcome.take < 500).toBe(true);
    }
    const charged = await db.pool.query<{ user_id: string; balance: number }>(
      `SELECT id AS user_id, balance::int FROM users WHERE id = ANY($1)`,
      [payers],
    );
    const reserved = await db.pool.query<{ user_id: string }>(`SELECT user_id FROM reservations`);
    const buyers = new Set(reserved.rows.map((row) => Number(row.user_id)));
    for (const row of charged.rows)
      expect(row.balance).toBe(buyers.has(Number(row.user_id)) ? 0 : 1_000);
  });
});
